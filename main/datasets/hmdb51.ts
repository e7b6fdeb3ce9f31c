/**
 * HMDB-51 (Kuehne et al. 2011): videos `root/<class>/<name>.avi` and the official split files
 * `<class>_test_split{1,2,3}.txt` (from testTrainMulti_7030_splits), lines `<name>.avi 0|1|2`:
 * 1 = train, 2 = test, 0 = not used in that split.
 *
 * Validation is held out from the official train part (about 15% per class, by seed), taking whole
 * source videos: clips cut from one source video share its name prefix `<source>_<class>_...` and go
 * together. (The released reference code validated on the test set; this does not.)
 */
import path from 'node:path';
import type { DatasetManifest, ManifestVideo } from './manifest.ts';
import { isFolder, listFolder, readTextFile, textLines } from './scan.ts';
import { compareNames, makeRng, partitionByGroups, pickHoldOutGroups } from './splitting.ts';

export interface Hmdb51Options {
  /** Official split 1, 2 or 3. Default 1 (the reference used split 1 only). */
  split?: number;
  /** Folder with the `<class>_test_split<N>.txt` files; default: the first of
   *  root/testTrainMulti_7030_splits, root/splits, root that has them. */
  splitsDir?: string;
  validFraction?: number;
  seed?: number | string;
}

const SPLIT_DIR_CANDIDATES = ['testTrainMulti_7030_splits', 'splits', '.'];

/** The source-video part of an HMDB clip name: the text before the last `_<class>_`. */
export function hmdbSourceOf(name: string, className: string): string {
  const stem = name.replace(/\.[^.]+$/, '');
  const at = stem.lastIndexOf(`_${className}_`);
  return at > 0 ? stem.slice(0, at) : stem;
}

async function splitFilesIn(dir: string, split: number): Promise<Map<string, string>> {
  const suffix = `_test_split${split}.txt`;
  const found = new Map<string, string>();
  for (const entry of await listFolder(dir, 'HMDB-51 splits folder')) {
    if (entry.kind === 'file' && entry.name.endsWith(suffix) && entry.name.length > suffix.length) {
      found.set(entry.name.slice(0, -suffix.length), path.join(dir, entry.name));
    }
  }
  return found;
}

async function findSplitFiles(root: string, split: number, splitsDir?: string) {
  if (splitsDir) {
    const dir = path.resolve(splitsDir);
    const files = await splitFilesIn(dir, split);
    if (files.size === 0) throw new Error(`${dir}: no HMDB-51 split files <class>_test_split${split}.txt`);
    return { dir, files };
  }
  await listFolder(root, 'HMDB-51 folder'); // a missing root is reported as such
  for (const candidate of SPLIT_DIR_CANDIDATES) {
    const dir = path.join(root, candidate);
    if (!(await isFolder(dir))) continue;
    const files = await splitFilesIn(dir, split);
    if (files.size > 0) return { dir, files };
  }
  const tried = SPLIT_DIR_CANDIDATES.map((c) => path.join(root, c)).join(', ');
  throw new Error(
    `${root}: no HMDB-51 split files <class>_test_split${split}.txt in ${tried} (pass the splits folder)`,
  );
}

export async function loadHmdb51Dataset(root: string, opts: Hmdb51Options = {}): Promise<DatasetManifest> {
  const absRoot = path.resolve(root);
  const splitNumber = opts.split ?? 1;
  const validFraction = opts.validFraction ?? 0.15;
  const seed = opts.seed ?? 0;
  if (![1, 2, 3].includes(splitNumber))
    throw new Error(`${absRoot}: HMDB-51 split must be 1, 2 or 3 (got ${splitNumber})`);
  if (!(validFraction >= 0 && validFraction < 1)) {
    throw new Error(`${absRoot}: HMDB-51 validation fraction must be in [0, 1) (got ${validFraction})`);
  }

  const { dir: splitsDir, files: splitFiles } = await findSplitFiles(absRoot, splitNumber, opts.splitsDir);
  const classes = [...splitFiles.keys()].sort(compareNames);

  // Every class folder needs a split file, and every split file a class folder.
  const folders = (await listFolder(absRoot, 'HMDB-51 folder')).filter(
    (e) => e.kind === 'folder' && path.join(absRoot, e.name) !== splitsDir,
  );
  for (const folder of folders) {
    if (!splitFiles.has(folder.name)) {
      throw new Error(
        `${path.join(absRoot, folder.name)}: unknown HMDB-51 class folder (no ${folder.name}_test_split${splitNumber}.txt in ${splitsDir})`,
      );
    }
  }

  const train: (ManifestVideo & { source: string })[] = [];
  const test: ManifestVideo[] = [];
  for (const [label, name] of classes.entries()) {
    const splitFile = splitFiles.get(name) as string;
    const classDir = path.join(absRoot, name);
    if (!folders.some((f) => f.name === name))
      throw new Error(`${classDir}: HMDB-51 class folder for ${splitFile} is missing`);
    const present = new Set(
      (await listFolder(classDir, 'class folder')).filter((e) => e.kind === 'file').map((e) => e.name),
    );
    let nTrain = 0;
    let nTest = 0;
    for (const { line, number } of textLines(await readTextFile(splitFile, 'HMDB-51 split file'))) {
      const match = /^(\S+)\s+([012])$/.exec(line);
      if (!match)
        throw new Error(`${splitFile}:${number}: expected '<video> 0|1|2', got '${line.slice(0, 80)}'`);
      const [, video, use] = match;
      if (use === '0') continue;
      if (!present.has(video))
        throw new Error(`${splitFile}:${number}: names ${path.join(classDir, video)}, which does not exist`);
      const entry = { file: `${name}/${video}`, label };
      if (use === '1') {
        train.push({ ...entry, source: `${name}/${hmdbSourceOf(video, name)}` });
        nTrain++;
      } else {
        test.push(entry);
        nTest++;
      }
    }
    if (nTrain === 0 || nTest === 0) {
      throw new Error(
        `${splitFile}: class '${name}' has ${nTrain} training and ${nTest} test videos in split ${splitNumber}`,
      );
    }
  }

  // Per-class hold-out of whole source videos.
  const rng = makeRng(seed, 'hmdb51-valid');
  const trainKept: ManifestVideo[] = [];
  const valid: ManifestVideo[] = [];
  for (const label of classes.keys()) {
    const members = train.filter((v) => v.label === label);
    const held = pickHoldOutGroups(members, (v) => v.source, validFraction, rng);
    const parts = partitionByGroups(members, (v) => v.source, held);
    trainKept.push(...parts.kept.map(({ file, label: l }) => ({ file, label: l })));
    valid.push(...parts.held.map(({ file, label: l }) => ({ file, label: l })));
  }

  return {
    kind: 'hmdb51',
    root: absRoot,
    classes,
    multilabel: false,
    splits: [
      { name: 'train', videos: trainKept },
      { name: 'valid', videos: valid },
      { name: 'test', videos: test },
    ],
    protocol: `HMDB-51 official split ${splitNumber}; valid ${validFraction} of train by source video (seed ${seed})`,
  };
}
