/** openDataset / listVideos: a feature dataset folder's splits, classes, dataset.json and source videos. */
import { existsSync, statSync } from 'node:fs';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { readClasses, readDatasetInfo, type DatasetInfo } from '../../model/data/dataset-info.ts';
import { openSplit, type FeatureSplit } from '../../model/data/split.ts';
import type { DatasetSummary, DatasetVideo, JsonValue, SplitSummary } from './api.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';

const FEATURES_SUFFIX = '_features.h5';

function checkFolder(dir: string): void {
  if (!existsSync(dir)) throw new GlimpseError('not-found', `${dir}: folder not found`, dir);
  if (!statSync(dir).isDirectory()) throw new GlimpseError('bad-file', `${dir}: not a folder`, dir);
}

/** Split names of every `{split}_features.h5` in `dir`. */
export async function splitNames(dir: string): Promise<string[]> {
  const names = await readdir(dir);
  return names
    .filter((n) => n.endsWith(FEATURES_SUFFIX) && n.length > FEATURES_SUFFIX.length)
    .map((n) => n.slice(0, -FEATURES_SUFFIX.length))
    .sort();
}

/** The source videos folder dataset.json's provenance names (as `glimpse extract` writes it), when it exists. */
export function videosDirOf(info: Partial<DatasetInfo> | null): string | null {
  const extraction = (info?.provenance as { extraction?: { videosDir?: unknown } } | undefined)?.extraction;
  const dir = extraction?.videosDir;
  return typeof dir === 'string' && existsSync(dir) && statSync(dir).isDirectory() ? dir : null;
}

function summariseSplit(split: FeatureSplit): SplitSummary {
  return {
    name: split.split,
    videos: split.videos.length,
    frames: split.totalFrames,
    multilabel: split.multilabel,
    locations: split.L,
    ctxDim: split.D,
  };
}

export async function openDatasetDir(dir: string): Promise<DatasetSummary> {
  checkFolder(dir);
  return aboutFile(dir, async () => {
    const names = await splitNames(dir);
    if (names.length === 0)
      throw new GlimpseError('bad-file', `${dir}: not a feature dataset (no {split}_features.h5 files)`, dir);
    const info = await readDatasetInfo(dir);
    const splits: SplitSummary[] = [];
    for (const name of names) {
      using split = await openSplit(dir, name);
      splits.push(summariseSplit(split));
    }
    return {
      dir,
      info: info ? (JSON.parse(JSON.stringify(info)) as { [key: string]: JsonValue }) : null,
      classNames: await readClasses(dir),
      splits,
      videosDir: videosDirOf(info),
    };
  });
}

/** Opens a split of a dataset, with the engine's error codes; the caller disposes of it. */
export async function openDatasetSplit(dir: string, split: string): Promise<FeatureSplit> {
  checkFolder(dir);
  return aboutFile(dir, () => openSplit(dir, split));
}

export async function listDatasetVideos(dir: string, splitName: string): Promise<DatasetVideo[]> {
  using split = await openDatasetSplit(dir, splitName);
  const videosDir = videosDirOf(split.info);
  return split.videos.map((v) => {
    const source = videosDir && v.file ? path.join(videosDir, v.file) : null;
    return {
      index: v.index,
      file: v.file,
      frames: v.frames,
      label: v.label,
      videoPath: source && existsSync(source) ? source : null,
    };
  });
}
