/**
 * Conversion of an imported feature file into a split of the reference layout (channel-major rows
 * `l + L·c`, written by FeatureSplitWriter) with its framenum/labels/filename files, classes.txt and
 * dataset.json. The text files come from the user's own files or from a reference-layout folder's split.
 *
 * Nothing half-written is ever left: the split is written into a staging folder inside the output folder
 * and moved into place only when complete (the framenum file last, since a split without it does not
 * open); a failure or a cancel removes the staging folder. Reads go block by block, so a file larger than
 * memory converts in bounded memory.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { etaFrom, throwIfAborted, type Progress } from '../../../common/progress.ts';
import {
  readClasses,
  readDatasetInfo,
  writeClasses,
  writeDatasetJson,
  type DatasetInfo,
  type JsonValue,
} from '../../../model/data/dataset-info.ts';
import { splitFiles } from '../../../model/data/split.ts';
import {
  looksMultilabel,
  parseFrameCounts,
  parseLabels,
  readLines,
  type Label,
} from '../../../model/data/text-files.ts';
import { FeatureSplitWriter } from '../../../model/data/writer.ts';
import { detectLayouts, type Detection, type ScoredCandidate } from './detect.ts';
import { gatherFrames } from './layouts.ts';
import { openImportSource } from './source.ts';

/** Where the split's text files come from: a reference-layout folder, or files named one by one. */
export type SplitText =
  | { kind: 'folder'; dir: string; split?: string }
  | { kind: 'files'; framenum: string; labels: string; filename?: string; classes?: string };

export interface SplitTextFiles {
  frames: number[];
  labels: Label[];
  files: string[];
  classes: string[];
  /** dataset.json of the folder the text files came from, when there is one. */
  info: Partial<DatasetInfo> | null;
}

export interface ImportRequest {
  /** The HDF5 file to import. */
  features: string;
  /** Dataset inside it (default: `features`, else its only float array). */
  key?: string;
  text: SplitText;
  outDir: string;
  split: string;
  /** Candidate id to use; default the best-ranked one without a conflict. */
  layout?: string;
  /** Replace an existing split of that name. */
  overwrite?: boolean;
  /** dataset.json fields when the text files' folder has none. */
  backbone?: string;
  fps?: number;
  invokedAs?: string;
}

export interface ImportHooks {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface ImportReport {
  outDir: string;
  split: string;
  featuresPath: string;
  layout: string;
  description: string;
  videos: number;
  frames: number;
  L: number;
  D: number;
}

/** Frames per read: about 128 MiB of float32 (read, then gathered into a second buffer of that size). */
const BLOCK_BYTES = 128 * 1024 * 1024;

export async function readSplitText(text: SplitText, split: string): Promise<SplitTextFiles> {
  let framenum: string;
  let labels: string;
  let filename: string | undefined;
  let classes: string[] = [];
  let info: Partial<DatasetInfo> | null = null;
  if (text.kind === 'folder') {
    const files = splitFiles(text.dir, text.split ?? split);
    ({ framenum, labels } = files);
    filename = existsSync(files.filename) ? files.filename : undefined;
    classes = await readClasses(text.dir);
    info = await readDatasetInfo(text.dir);
  } else {
    ({ framenum, labels, filename } = text);
    if (text.classes) classes = (await readLines(text.classes)).map((s) => s.trim());
  }
  const frames = parseFrameCounts(framenum, await readLines(framenum));
  const labelLines = await readLines(labels);
  const parsed = parseLabels(
    labels,
    labelLines,
    looksMultilabel(labelLines),
    classes.length > 0 ? classes.length : undefined,
  );
  if (parsed.length !== frames.length) {
    throw new Error(`${labels}: has ${parsed.length} labels but ${framenum} lists ${frames.length} videos`);
  }
  const names = filename
    ? await readLines(filename)
    : frames.map((_, i) => `video_${String(i).padStart(5, '0')}`);
  if (names.length !== frames.length) {
    throw new Error(
      `${filename}: has ${names.length} file names but ${framenum} lists ${frames.length} videos`,
    );
  }
  return { frames, labels: parsed, files: names, classes, info };
}

/** Detection with the constraints the text files and the output folder give. */
export async function detectForImport(
  features: string,
  key: string | undefined,
  text: SplitTextFiles | null,
  outDir: string | null,
): Promise<Detection> {
  const existing = outDir ? await readDatasetInfo(outDir) : null;
  const shapeOf = (info: Partial<DatasetInfo> | null) =>
    info?.locations && info.ctxDim ? { L: info.locations, D: info.ctxDim } : undefined;
  using source = await openImportSource(features, key);
  return detectLayouts(source, {
    expectedFrames: text ? text.frames.reduce((a, b) => a + b, 0) : undefined,
    expectedShape: shapeOf(existing) ?? shapeOf(text?.info ?? null),
  });
}

/** The candidate to convert with: the one named, else the best one without a conflict. */
export function chooseCandidate(detection: Detection, layout: string | undefined): ScoredCandidate {
  const file = detection.file;
  if (layout !== undefined) {
    const named = detection.candidates.find((c) => c.id === layout);
    if (!named) {
      throw new Error(
        `${file}: no layout '${layout}' for shape [${detection.shape.join(', ')}] (candidates: ${detection.candidates.map((c) => c.id).join(', ')})`,
      );
    }
    if (named.conflict) throw new Error(`${file}: layout '${layout}' does not fit: ${named.conflict}`);
    return named;
  }
  const best = detection.candidates[0];
  if (best.conflict) throw new Error(`${file}: no layout fits: ${best.id} has ${best.conflict}`);
  return best;
}

export async function importFeatures(request: ImportRequest, hooks: ImportHooks = {}): Promise<ImportReport> {
  const { outDir, split } = request;
  if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(split)) {
    throw new Error(`${outDir}: split name '${split}' must be letters, digits, '_', '.' or '-'`);
  }
  const target = splitFiles(outDir, split);
  if (!request.overwrite && (existsSync(target.features) || existsSync(target.framenum))) {
    throw new Error(`${target.features}: split '${split}' exists already (overwrite to replace it)`);
  }
  const text = await readSplitText(request.text, split);
  const detection = await detectForImport(request.features, request.key, text, outDir);
  const chosen = chooseCandidate(detection, request.layout);
  const existingInfo = await readDatasetInfo(outDir);
  const existingClasses = existsSync(outDir) ? await readClasses(outDir) : [];
  if (
    text.classes.length > 0 &&
    existingClasses.length > 0 &&
    text.classes.join('\n') !== existingClasses.join('\n')
  ) {
    throw new Error(`${path.join(outDir, 'classes.txt')}: lists other classes than the split being imported`);
  }

  const staging = path.join(outDir, `.import-${split}.partial`);
  await rm(staging, { recursive: true, force: true });
  await mkdir(staging, { recursive: true });
  try {
    await writeStaged(request, text, chosen, detection.shape, staging, hooks);
    if (!existingInfo) {
      const from = text.info;
      const info: DatasetInfo = {
        backbone: request.backbone ?? from?.backbone ?? 'unknown',
        frameSize: from?.frameSize ?? { width: 0, height: 0 },
        fps: request.fps ?? from?.fps ?? 30,
        locations: chosen.L,
        ctxDim: chosen.D,
        layout: 'channel-major',
        provenance: {
          import: {
            source: request.features,
            key: detection.key,
            layout: chosen.id,
            description: chosen.description,
            invokedAs: request.invokedAs ?? 'glimpse import',
            date: new Date().toISOString(),
          },
          ...(from?.provenance ? { textFrom: from.provenance as JsonValue } : {}),
        },
      };
      await writeDatasetJson(outDir, info);
    }
    if (text.classes.length > 0 && existingClasses.length === 0) await writeClasses(outDir, text.classes);
    const staged = splitFiles(staging, split);
    for (const key of ['features', 'labels', 'filename', 'framenum'] as const) {
      await rename(staged[key], target[key]);
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return {
    outDir,
    split,
    featuresPath: target.features,
    layout: chosen.id,
    description: chosen.description,
    videos: text.frames.length,
    frames: chosen.frames,
    L: chosen.L,
    D: chosen.D,
  };
}

async function writeStaged(
  request: ImportRequest,
  text: SplitTextFiles,
  chosen: ScoredCandidate,
  shape: readonly number[],
  staging: string,
  hooks: ImportHooks,
): Promise<void> {
  const { signal, onProgress } = hooks;
  const width = chosen.L * chosen.D;
  const perBlock = Math.max(1, Math.floor(BLOCK_BYTES / (width * 4)));
  using source = await openImportSource(request.features, request.key);
  const writer = await FeatureSplitWriter.create(staging, request.split, { L: chosen.L, D: chosen.D });
  try {
    const started = performance.now();
    let video = 0;
    let left = text.frames[0];
    writer.beginVideo(text.files[0], text.labels[0]);
    // Blocks run across video boundaries: in Fortran order a block's frames are the contiguous runs on disk,
    // so the longer the block the fewer, longer reads.
    for (let row = 0; row < chosen.frames;) {
      throwIfAborted(signal);
      const count = Math.min(perBlock, chosen.frames - row);
      const frames = gatherFrames(shape, chosen, source.readBlock(chosen, row, count), count);
      for (let at = 0; at < count;) {
        const n = Math.min(left, count - at);
        writer.appendFrames(frames.subarray(at * width, (at + n) * width));
        at += n;
        left -= n;
        if (left === 0) {
          writer.endVideo();
          video++;
          if (video < text.frames.length) {
            left = text.frames[video];
            writer.beginVideo(text.files[video], text.labels[video]);
          }
        }
      }
      row += count;
      const seconds = (performance.now() - started) / 1000;
      const rate = seconds > 0 ? row / seconds : null;
      onProgress?.({
        fraction: row / chosen.frames,
        rate,
        rateUnit: 'frames/s',
        eta: etaFrom(chosen.frames - row, rate),
        message: `video ${Math.min(video + 1, text.frames.length)} of ${text.frames.length}`,
      });
      // Let a cancel (a message to this thread) arrive between blocks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
    // A cancel during the last block still stops the import before anything is moved into place.
    throwIfAborted(signal);
    await writer.finish();
  } finally {
    writer.close();
  }
}
