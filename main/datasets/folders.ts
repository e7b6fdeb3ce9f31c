/**
 * Folder-per-class datasets: `root/<class>/<video>`. Classes are the folder names in sorted order
 * (or a given order); train/valid/test are deterministic stratified fractions by seed.
 */
import path from 'node:path';
import type { DatasetManifest, ManifestVideo } from './manifest.ts';
import { isVideoName, listFolder } from './scan.ts';
import { checkFractions, type Fractions, makeRng, stratifiedSplit } from './splitting.ts';

export interface FoldersOptions {
  /** Seed of the split; the same seed and names give the same split. Default 0. */
  seed?: number | string;
  /** Per-class fractions. Default 0.7 / 0.15 / 0.15. */
  fractions?: Fractions;
  /** Fixed class order; every folder must be one of these and every one must have videos. */
  classes?: string[];
}

export const DEFAULT_FOLDER_FRACTIONS: Fractions = { train: 0.7, valid: 0.15, test: 0.15 };

export async function loadFoldersDataset(root: string, opts: FoldersOptions = {}): Promise<DatasetManifest> {
  const absRoot = path.resolve(root);
  const seed = opts.seed ?? 0;
  const fractions = opts.fractions ?? DEFAULT_FOLDER_FRACTIONS;
  checkFractions(fractions, absRoot);

  const folders = (await listFolder(absRoot, 'video folder'))
    .filter((e) => e.kind === 'folder')
    .map((e) => e.name);
  if (folders.length === 0) throw new Error(`${absRoot}: no class folders (expected <root>/<class>/<video>)`);
  const classes = opts.classes ?? folders;
  if (opts.classes) {
    const unknown = folders.find((f) => !classes.includes(f));
    if (unknown !== undefined) {
      throw new Error(
        `${path.join(absRoot, unknown)}: unknown class folder (expected one of ${classes.join(', ')})`,
      );
    }
  }

  const videos: ManifestVideo[] = [];
  for (const [label, name] of classes.entries()) {
    const dir = path.join(absRoot, name);
    if (!folders.includes(name)) throw new Error(`${dir}: class folder is missing`);
    const files = (await listFolder(dir, 'class folder')).filter(
      (e) => e.kind === 'file' && isVideoName(e.name),
    );
    if (files.length === 0) throw new Error(`${dir}: class '${name}' has no videos`);
    for (const file of files) videos.push({ file: `${name}/${file.name}`, label });
  }

  const parts = stratifiedSplit(
    videos,
    (v) => v.file,
    (v) => v.label as number,
    fractions,
    makeRng(seed, 'folders'),
  );
  return {
    kind: 'folders',
    root: absRoot,
    classes,
    multilabel: false,
    splits: [
      { name: 'train', videos: parts.train },
      { name: 'valid', videos: parts.valid },
      { name: 'test', videos: parts.test },
    ],
    protocol: `folder-per-class, stratified ${fractions.train}/${fractions.valid}/${fractions.test} by seed ${seed}`,
  };
}
