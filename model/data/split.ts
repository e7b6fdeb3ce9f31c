/**
 * One split of a feature dataset directory in the reference layout: `{split}_features.h5` (dataset
 * `features`, (total_frames, L·D), channel-major rows), `{split}_framenum.txt`, `{split}_labels.txt`,
 * optional `{split}_filename.txt`, plus `classes.txt` and `dataset.json` when present.
 * Opening validates everything up front and reads no feature rows; rows are then read by hyperslab.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { readClasses, readDatasetInfo, type DatasetInfo } from './dataset-info.ts';
import { getFloatMatrix, openHdf5, readFloatRows, type Dataset, type H5File } from './hdf5.ts';
import { channelMajorToLocationMajor } from './layout.ts';
import { looksMultilabel, parseFrameCounts, parseLabels, readLines, type Label } from './text-files.ts';

export type { Label };

export interface SplitVideo {
  index: number;
  /** Path relative to the video root ('' when the split has no filename file). */
  file: string;
  frames: number;
  /** Row of the video's first frame in the features dataset. */
  firstRow: number;
  /** Class id, or one 0/1 flag per class when multi-label. */
  label: Label;
}

export interface FeatureSplit {
  readonly dir: string;
  readonly split: string;
  readonly featuresPath: string;
  /** Grid locations per frame. */
  readonly L: number;
  /** Channels per location. */
  readonly D: number;
  readonly multilabel: boolean;
  /** Number of classes: opts.nClasses, else classes.txt, else the flag count or the largest id + 1. */
  readonly nClasses: number;
  readonly videos: readonly SplitVideo[];
  readonly totalFrames: number;
  /** From classes.txt, or [] when there is none. */
  readonly classNames: readonly string[];
  /** dataset.json as found, or null. */
  readonly info: Partial<DatasetInfo> | null;
  /**
   * Rows [start, start + count) as location-major (count, L, D): frame f, location l, channel c at
   * (f·L + l)·D + c. Written into `into` (which must hold count·L·D values) when given.
   */
  readRows(start: number, count: number, into?: Float32Array): Float32Array;
  close(): void;
  /** `using split = await openSplit(…)`: the same as close(). */
  [Symbol.dispose](): void;
}

export interface OpenSplitOptions {
  locations?: number;
  ctxDim?: number;
  /** Force the labels format; by default a comma anywhere in the labels file means multi-label. */
  multilabel?: boolean;
  nClasses?: number;
}

/** Largest single read, far below h5wasm's 2 GB heap (the slice is copied once out of the heap). */
export const MAX_READ_BYTES = 512 * 1024 * 1024;

export const DEFAULT_LOCATIONS = 49;

export function splitFiles(dir: string, split: string) {
  return {
    features: path.join(dir, `${split}_features.h5`),
    framenum: path.join(dir, `${split}_framenum.txt`),
    labels: path.join(dir, `${split}_labels.txt`),
    filename: path.join(dir, `${split}_filename.txt`),
  };
}

export async function openSplit(
  dir: string,
  split: string,
  opts: OpenSplitOptions = {},
): Promise<FeatureSplit> {
  const files = splitFiles(dir, split);
  for (const file of [files.features, files.framenum, files.labels]) {
    if (!existsSync(file)) throw new Error(`${file}: file not found`);
  }
  const info = await readDatasetInfo(dir);
  const classNames = await readClasses(dir);
  const classesFile = path.join(dir, 'classes.txt');
  if (opts.nClasses !== undefined) {
    if (!Number.isInteger(opts.nClasses) || opts.nClasses <= 0) {
      throw new Error(`${files.labels}: nClasses must be a positive integer, got ${opts.nClasses}`);
    }
    if (classNames.length > 0 && classNames.length !== opts.nClasses) {
      throw new Error(`${classesFile}: lists ${classNames.length} classes, expected ${opts.nClasses}`);
    }
  }
  const knownClasses = opts.nClasses ?? (classNames.length > 0 ? classNames.length : undefined);

  const frames = parseFrameCounts(files.framenum, await readLines(files.framenum));
  const labelLines = await readLines(files.labels);
  const multilabel = opts.multilabel ?? looksMultilabel(labelLines);
  const labels = parseLabels(files.labels, labelLines, multilabel, knownClasses);
  if (labels.length !== frames.length) {
    throw new Error(
      `${files.labels}: has ${labels.length} labels but ${files.framenum} lists ${frames.length} videos`,
    );
  }
  let names: string[] | null = null;
  if (existsSync(files.filename)) {
    names = await readLines(files.filename);
    if (names.length !== frames.length) {
      throw new Error(
        `${files.filename}: has ${names.length} file names but ${files.framenum} lists ${frames.length} videos`,
      );
    }
  }

  const h5 = await openHdf5(files.features, 'r');
  try {
    const ds = await getFloatMatrix(h5, files.features, 'features');
    const [rows, width] = ds.metadata.shape as [number, number];
    const L = opts.locations ?? info?.locations ?? DEFAULT_LOCATIONS;
    const D = opts.ctxDim ?? info?.ctxDim ?? width / L;
    if (!Number.isInteger(L) || L <= 0 || !Number.isInteger(D) || D <= 0 || L * D !== width) {
      throw new Error(
        `${files.features}: row width ${width} does not match L=${L} locations × D=${Number.isInteger(D) ? D : '?'} channels` +
          (info ? '' : ' (no dataset.json; pass locations/ctxDim)'),
      );
    }
    const total = frames.reduce((a, b) => a + b, 0);
    if (total !== rows) {
      throw new Error(
        `${files.framenum}: frame counts sum to ${total} but ${files.features} has ${rows} rows`,
      );
    }
    let firstRow = 0;
    const videos = frames.map((n, index): SplitVideo => {
      const video = { index, file: names ? names[index] : '', frames: n, firstRow, label: labels[index] };
      firstRow += n;
      return video;
    });
    const nClasses =
      knownClasses ??
      (multilabel
        ? ((labels[0] as number[] | undefined)?.length ?? 0)
        : (labels as number[]).reduce((a, b) => Math.max(a, b), -1) + 1);
    return new H5FeatureSplit(
      dir,
      split,
      files.features,
      h5,
      ds,
      L,
      D,
      multilabel,
      nClasses,
      videos,
      total,
      classNames,
      info,
    );
  } catch (err) {
    h5.close();
    throw err;
  }
}

class H5FeatureSplit implements FeatureSplit {
  private h5: H5File | null;

  constructor(
    readonly dir: string,
    readonly split: string,
    readonly featuresPath: string,
    h5: H5File,
    private readonly ds: Dataset,
    readonly L: number,
    readonly D: number,
    readonly multilabel: boolean,
    readonly nClasses: number,
    readonly videos: readonly SplitVideo[],
    readonly totalFrames: number,
    readonly classNames: readonly string[],
    readonly info: Partial<DatasetInfo> | null,
  ) {
    this.h5 = h5;
  }

  readRows(start: number, count: number, into?: Float32Array): Float32Array {
    if (!this.h5) throw new Error(`${this.featuresPath}: split is closed`);
    if (
      !Number.isInteger(start) ||
      !Number.isInteger(count) ||
      start < 0 ||
      count < 0 ||
      start + count > this.totalFrames
    ) {
      throw new Error(`${this.featuresPath}: rows ${start}+${count} are outside 0..${this.totalFrames - 1}`);
    }
    const width = this.L * this.D;
    if (count * width * 4 > MAX_READ_BYTES) {
      throw new Error(`${this.featuresPath}: reading ${count} rows at once is too large; read in pieces`);
    }
    if (into && into.length < count * width) {
      throw new Error(`${this.featuresPath}: buffer of ${into.length} values is too small for ${count} rows`);
    }
    if (count === 0) return into ?? new Float32Array(0);
    const raw = readFloatRows(this.ds, this.featuresPath, start, count);
    return channelMajorToLocationMajor(raw, this.L, this.D, count, into);
  }

  close(): void {
    this.h5?.close();
    this.h5 = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
