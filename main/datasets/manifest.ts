/**
 * Split manifests: which videos (relative to the video root) belong to which split, with their labels,
 * and the reference text files `{split}_filename.txt` / `{split}_labels.txt` written from them.
 * Features and `{split}_framenum.txt` are written later, by extraction, in the same video order.
 */
import { writeFileAtomic } from '../../model/atomic-file.ts';
import path from 'node:path';

export type SplitName = 'train' | 'valid' | 'test';

export interface ManifestVideo {
  /** Path relative to the video root, with '/' separators (the reference `{split}_filename.txt` form). */
  file: string;
  /** Class id (single-label) or one 0/1 flag per class (multi-label). */
  label: number | number[];
}

export interface SplitManifest {
  name: SplitName | string;
  videos: ManifestVideo[];
}

export interface DatasetManifest {
  /** Which adapter produced it, e.g. 'ucf11'. */
  kind: string;
  /** Absolute path of the video root the `file` entries are relative to. */
  root: string;
  classes: string[];
  multilabel: boolean;
  /** Usually train, valid, test in that order. */
  splits: SplitManifest[];
  /** One line on how the splits were made (protocol, fold, seed), for provenance. */
  protocol: string;
}

/** The split of that name; throws a one-line error naming the manifest when it has none. */
export function getSplit(manifest: DatasetManifest, name: string): SplitManifest {
  const split = manifest.splits.find((s) => s.name === name);
  if (!split) {
    const have = manifest.splits.map((s) => s.name).join(', ');
    throw new Error(`${manifest.root}: ${manifest.kind} manifest has no split '${name}' (has ${have})`);
  }
  return split;
}

/** Checks labels against the classes and file names for what the text files cannot hold. */
export function validateManifest(manifest: DatasetManifest): void {
  const where = `${manifest.root} (${manifest.kind})`;
  const nClasses = manifest.classes.length;
  if (nClasses === 0) throw new Error(`${where}: no classes`);
  if (new Set(manifest.classes).size !== nClasses) throw new Error(`${where}: duplicate class names`);
  for (const name of manifest.classes) {
    if (!name || /[\r\n]/.test(name))
      throw new Error(`${where}: class name ${JSON.stringify(name)} is invalid`);
  }
  const splitNames = new Set<string>();
  for (const split of manifest.splits) {
    if (!/^[A-Za-z0-9_-]+$/.test(split.name))
      throw new Error(`${where}: split name '${split.name}' is invalid`);
    if (splitNames.has(split.name)) throw new Error(`${where}: split '${split.name}' appears twice`);
    splitNames.add(split.name);
    const files = new Set<string>();
    for (const video of split.videos) {
      const at = `${where}: split '${split.name}', ${video.file}`;
      if (!video.file || /[\r\n\\]/.test(video.file) || path.isAbsolute(video.file)) {
        throw new Error(`${at}: file must be a relative '/'-separated path`);
      }
      if (files.has(video.file)) throw new Error(`${at}: listed twice`);
      files.add(video.file);
      if (manifest.multilabel) {
        const flags = video.label;
        if (!Array.isArray(flags) || flags.length !== nClasses || flags.some((f) => f !== 0 && f !== 1)) {
          throw new Error(`${at}: label must be ${nClasses} 0/1 flags`);
        }
      } else {
        const id = video.label;
        if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= nClasses) {
          throw new Error(`${at}: label must be a class id in 0..${nClasses - 1}`);
        }
      }
    }
  }
}

/** One line per video: the class id, or comma-separated 0/1 flags (the reference Hollywood2 form). */
export function labelLine(label: number | number[]): string {
  return Array.isArray(label) ? label.join(',') : String(label);
}

/**
 * Writes `{split}_filename.txt` and `{split}_labels.txt` for one split, each atomically.
 * Every line ends with '\n': the reference reader drops the last character of each line.
 */
export async function writeSplitFiles(
  dir: string,
  manifest: DatasetManifest,
  splitName: string,
): Promise<void> {
  const split = getSplit(manifest, splitName);
  await writeFileAtomic(
    path.join(dir, `${split.name}_filename.txt`),
    split.videos.map((v) => v.file + '\n').join(''),
  );
  await writeFileAtomic(
    path.join(dir, `${split.name}_labels.txt`),
    split.videos.map((v) => labelLine(v.label) + '\n').join(''),
  );
}

/** Validates, then writes the text files of every split plus `classes.txt` (one class name per line). */
export async function writeManifestFiles(dir: string, manifest: DatasetManifest): Promise<void> {
  validateManifest(manifest);
  for (const split of manifest.splits) await writeSplitFiles(dir, manifest, split.name);
  await writeFileAtomic(path.join(dir, 'classes.txt'), manifest.classes.map((c) => c + '\n').join(''));
}
