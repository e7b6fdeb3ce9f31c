/**
 * Hollywood2 actions (Marszałek, Laptev & Schmid 2009): clips `root/AVIClips/<clip>.avi` and the
 * official sets `root/ClipSets/<Action>_{train,test}.txt`, lines `<clip>  1|-1`. Multi-label: each clip
 * gets 12 0/1 flags in the reference order. Train/test are official (823/884 clips); validation is a
 * seeded 15% of the training clips (the clip names do not tell the movie, so this is by clip).
 */
import path from 'node:path';
import type { DatasetManifest, ManifestVideo } from './manifest.ts';
import { listFolder, readTextFile, textLines } from './scan.ts';
import { compareNames, makeRng, shuffled } from './splitting.ts';

/** The class order of the reference `actrec_mAP.py` (`pred_mAP`). */
export const HOLLYWOOD2_ACTIONS = [
  'AnswerPhone',
  'DriveCar',
  'Eat',
  'FightPerson',
  'GetOutCar',
  'HandShake',
  'HugPerson',
  'Kiss',
  'Run',
  'SitDown',
  'SitUp',
  'StandUp',
] as const;

export interface Hollywood2Options {
  validFraction?: number;
  seed?: number | string;
}

/** Reads the 12 `<Action>_<set>.txt` files into clip → flags, requiring all of them to list the same clips. */
async function readClipSet(clipSets: string, set: 'train' | 'test'): Promise<Map<string, number[]>> {
  const flags = new Map<string, number[]>();
  let firstFile = '';
  for (const [c, action] of HOLLYWOOD2_ACTIONS.entries()) {
    const file = path.join(clipSets, `${action}_${set}.txt`);
    const seen = new Set<string>();
    for (const { line, number } of textLines(await readTextFile(file, 'Hollywood2 clip set'))) {
      const match = /^(\S+)\s+(-1|1)$/.exec(line);
      if (!match) throw new Error(`${file}:${number}: expected '<clip> 1|-1', got '${line.slice(0, 80)}'`);
      const [, clip, value] = match;
      if (seen.has(clip)) throw new Error(`${file}:${number}: clip ${clip} is listed twice`);
      seen.add(clip);
      let row = flags.get(clip);
      if (!row) {
        if (c > 0) throw new Error(`${file}:${number}: clip ${clip} is not in ${firstFile}`);
        row = new Array<number>(HOLLYWOOD2_ACTIONS.length).fill(0);
        flags.set(clip, row);
      }
      row[c] = value === '1' ? 1 : 0;
    }
    if (c === 0) firstFile = file;
    if (seen.size !== flags.size) {
      const missing = [...flags.keys()].find((clip) => !seen.has(clip));
      throw new Error(`${file}: clip ${missing} of ${firstFile} is not listed`);
    }
    if (seen.size > 0 && ![...flags.values()].some((row) => row[c] === 1)) {
      throw new Error(`${file}: action '${action}' has no positive clips in the ${set} set`);
    }
  }
  if (flags.size === 0)
    throw new Error(`${path.join(clipSets, `${HOLLYWOOD2_ACTIONS[0]}_${set}.txt`)}: no clips`);
  return flags;
}

export async function loadHollywood2Dataset(
  root: string,
  opts: Hollywood2Options = {},
): Promise<DatasetManifest> {
  const absRoot = path.resolve(root);
  const validFraction = opts.validFraction ?? 0.15;
  const seed = opts.seed ?? 0;
  if (!(validFraction >= 0 && validFraction < 1)) {
    throw new Error(`${absRoot}: Hollywood2 validation fraction must be in [0, 1) (got ${validFraction})`);
  }
  await listFolder(absRoot, 'Hollywood2 folder');
  const clipDir = path.join(absRoot, 'AVIClips');
  const clipSets = path.join(absRoot, 'ClipSets');
  const clipFiles = new Set((await listFolder(clipDir, 'Hollywood2 clip folder')).map((e) => e.name));
  await listFolder(clipSets, 'Hollywood2 clip-set folder');

  const toVideos = (set: 'train' | 'test', flags: Map<string, number[]>): ManifestVideo[] =>
    [...flags.keys()].sort(compareNames).map((clip) => {
      const name = `${clip}.avi`;
      if (!clipFiles.has(name)) {
        throw new Error(
          `${path.join(clipSets, `${HOLLYWOOD2_ACTIONS[0]}_${set}.txt`)}: names clip ${clip}, but ${path.join(clipDir, name)} does not exist`,
        );
      }
      return { file: `AVIClips/${name}`, label: flags.get(clip) as number[] };
    });
  const trainAll = toVideos('train', await readClipSet(clipSets, 'train'));
  const test = toVideos('test', await readClipSet(clipSets, 'test'));

  const nValid = Math.round(validFraction * trainAll.length);
  const validFiles = new Set(
    shuffled(trainAll, makeRng(seed, 'hollywood2-valid'))
      .slice(0, Math.min(nValid, trainAll.length - 1))
      .map((v) => v.file),
  );

  return {
    kind: 'hollywood2',
    root: absRoot,
    classes: [...HOLLYWOOD2_ACTIONS],
    multilabel: true,
    splits: [
      { name: 'train', videos: trainAll.filter((v) => !validFiles.has(v.file)) },
      { name: 'valid', videos: trainAll.filter((v) => validFiles.has(v.file)) },
      { name: 'test', videos: test },
    ],
    protocol: `Hollywood2 official train/test; valid ${validFraction} of train by clip (seed ${seed})`,
  };
}
