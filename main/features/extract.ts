/**
 * Feature extraction: videos of a dataset → a feature dataset directory in the reference layout.
 * Decoding runs ahead in a worker thread while the CNN works on the current batch; rows go to
 * `{split}_features.h5` as they are made, video by video, through FeatureSplitWriter (journalled).
 *
 * Resuming: running the same extraction again into the same folder continues after the last complete
 * video (a partly written one is dropped and redone). Batches start at frame 0, N, 2N, … of each video,
 * so a resumed run writes exactly the bytes an uninterrupted one would.
 *
 * Bad videos (not a video, empty, truncated, no video stream) are listed with the reason in
 * `extract-report.json` and left out of the split; the rest go on. A video shorter than one clip is
 * extracted (the model pads it to one clip by repeating its last frame) and listed as short.
 */
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { etaFrom, throwIfAborted, type Progress } from '../../common/progress.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { readDatasetInfo, type DatasetInfo, type JsonValue } from '../../model/data/dataset-info.ts';
import { splitFiles } from '../../model/data/split.ts';
import { FeatureSplitWriter, journalPath, writeClasses, writeDatasetJson } from '../../model/data/writer.ts';
import { loadDatasetManifest, type DatasetLoadOptions } from '../datasets/kinds.ts';
import type { DatasetManifest, ManifestVideo } from '../datasets/manifest.ts';
import type { Backbone } from './backbone.ts';
import { locateFfmpeg } from '../media/locate.ts';
import { FEATURE_BATCH, featureBatches } from './video-features.ts';

export const EXTRACT_REPORT = 'extract-report.json';

export interface ExtractOptions {
  videosDir: string;
  kind: string;
  outDir: string;
  backbone: Backbone;
  /** Frames per second decoded (default 30, as the reference). */
  fps?: number;
  /** Frames per CNN batch (default 16). */
  batch?: number;
  /** Clip length used to flag short videos (default 30, the reference maxlen). */
  clipLength?: number;
  dataset?: DatasetLoadOptions;
  compression?: 'none' | 'gzip';
  /** Start afresh even when the folder holds an extraction with other settings. */
  overwrite?: boolean;
  /** The command line or caller, for provenance. */
  invokedAs?: string;
  signal?: AbortSignal;
  /** The one Progress event of every job (frames/s and the ETA of this run), with the per-split detail. */
  onProgress?: (progress: Progress, detail: ExtractProgress) => void;
  log?: (line: string) => void;
}

export interface ExtractProgress {
  split: string;
  videosDone: number;
  videosTotal: number;
  /** Frames extracted by this run. */
  frames: number;
  framesPerS: number;
  etaS: number;
}

export interface FailedVideo {
  split: string;
  file: string;
  reason: string;
}

export interface ShortVideo {
  split: string;
  file: string;
  frames: number;
}

export interface ExtractReport {
  videosDir: string;
  kind: string;
  outDir: string;
  backbone: string;
  complete: boolean;
  splits: Record<string, { listed: number; extracted: number; frames: number }>;
  failed: FailedVideo[];
  /** Extracted, but shorter than one clip of `clipLength`: each gives one clip, padded with its last frame. */
  short: ShortVideo[];
  clipLength: number;
  /** This run only (a resumed run counts what it did itself). */
  run: { frames: number; seconds: number; framesPerS: number; resumedVideos: number };
  /** Why the run stopped early, when it did. */
  stopped?: string;
}

/** The report of a run that has done nothing yet (local or queued). */
export function emptyExtractReport(
  where: Pick<ExtractReport, 'videosDir' | 'kind' | 'outDir' | 'backbone' | 'clipLength'>,
): ExtractReport {
  return {
    ...where,
    complete: false,
    splits: {},
    failed: [],
    short: [],
    run: { frames: 0, seconds: 0, framesPerS: 0, resumedVideos: 0 },
  };
}

/** What must not change between an interrupted run and its continuation (or a queued run's shards). */
export interface ExtractionSettings {
  backbone: string;
  backboneModelSha256: string;
  backboneWeightsSha256: string;
  inputSize: number;
  mean: number;
  scale: number;
  fps: number;
  L: number;
  D: number;
  kind: string;
  videosDir: string;
  splits: Record<string, string[]>;
  compression: string;
}

export function extractionSettings(
  backbone: Backbone,
  fps: number,
  manifest: DatasetManifest,
  compression: 'none' | 'gzip',
): ExtractionSettings {
  return {
    backbone: backbone.id,
    backboneModelSha256: backbone.source.modelJsonSha256,
    backboneWeightsSha256: backbone.source.weightsSha256,
    inputSize: backbone.inputSize,
    mean: backbone.mean,
    scale: backbone.scale,
    fps,
    L: backbone.L,
    D: backbone.D,
    kind: manifest.kind,
    videosDir: manifest.root,
    splits: Object.fromEntries(manifest.splits.map((s) => [s.name, s.videos.map((v) => v.file)])),
    compression,
  };
}

export async function extractFeatures(opts: ExtractOptions): Promise<ExtractReport> {
  const fps = opts.fps ?? 30;
  const batch = opts.batch ?? FEATURE_BATCH;
  const clipLength = opts.clipLength ?? 30;
  const log = opts.log ?? (() => {});
  const { backbone } = opts;
  const outDir = path.resolve(opts.outDir);
  const manifest = await loadDatasetManifest(opts.kind, opts.videosDir, opts.dataset ?? {});
  // No ffmpeg is the run's problem, not every video's: fail once, up front.
  await locateFfmpeg();
  const settings = extractionSettings(backbone, fps, manifest, opts.compression ?? 'none');
  const fresh = opts.overwrite || !(await matchesEarlierRun(outDir, settings, manifest));
  if (fresh) await clearEarlierRun(outDir, manifest);
  await mkdir(outDir, { recursive: true });
  const info = datasetInfo(backbone, fps, manifest, settings, opts.invokedAs, false);
  await writeDatasetJson(outDir, info);
  await writeClasses(outDir, manifest.classes);

  const earlier = fresh ? new Map<string, string>() : await earlierFailures(outDir);
  const report = emptyExtractReport({
    videosDir: manifest.root,
    kind: manifest.kind,
    outDir,
    backbone: backbone.id,
    clipLength,
  });
  const saveReport = () =>
    writeFileAtomic(path.join(outDir, EXTRACT_REPORT), JSON.stringify(report, null, 2) + '\n');

  const started = performance.now();
  const videosTotal = manifest.splits.reduce((n, s) => n + s.videos.length, 0);
  let videosDone = 0;
  // Videos settled by earlier runs (extracted or failed): the ETA counts only this run's pace.
  let videosBefore = 0;
  const progress = (split: string) => {
    const seconds = (performance.now() - started) / 1000;
    const framesPerS = seconds > 0 ? report.run.frames / seconds : 0;
    const doneThisRun = videosDone - videosBefore;
    const perVideo = doneThisRun > 0 ? seconds / doneThisRun : NaN;
    const detail: ExtractProgress = {
      split,
      videosDone,
      videosTotal,
      frames: report.run.frames,
      framesPerS,
      etaS: (videosTotal - videosDone) * perVideo,
    };
    opts.onProgress?.(
      {
        fraction: videosTotal > 0 ? videosDone / videosTotal : 1,
        rate: framesPerS > 0 ? framesPerS : null,
        rateUnit: 'frames/s',
        eta: etaFrom(videosTotal - videosDone, doneThisRun > 0 ? doneThisRun / seconds : null),
        message: `${videosDone}/${videosTotal} videos`,
      },
      detail,
    );
  };

  // One decoding stream over the videos left in every split, so the decoder never waits between splits.
  const writers: FeatureSplitWriter[] = [];
  try {
    const jobs: { split: number; video: ManifestVideo }[] = [];
    for (const [s, split] of manifest.splits.entries()) {
      throwIfAborted(opts.signal);
      const writer = await openWriter(outDir, split.name, backbone, settings.compression, fresh, log);
      writers.push(writer);
      const start = skipDone(writer, split.videos, outDir);
      for (const file of start.skipped) {
        const reason = earlier.get(`${split.name}/${file}`) ?? 'failed in an earlier run';
        report.failed.push({ split: split.name, file, reason });
      }
      for (const v of writer.videos) {
        if (v.frames < clipLength) report.short.push({ split: split.name, file: v.file, frames: v.frames });
      }
      videosDone += start.index;
      report.run.resumedVideos += writer.videos.length;
      for (const video of split.videos.slice(start.index)) jobs.push({ split: s, video });
    }
    videosBefore = videosDone;
    if (jobs.length > 0) progress(manifest.splits[jobs[0].split].name);
    const files = jobs.map((j) => path.join(manifest.root, j.video.file));
    let open = -1;
    for await (const event of featureBatches(files, backbone, { fps, batch })) {
      throwIfAborted(opts.signal);
      const { video } = jobs[event.video];
      const writer = writers[jobs[event.video].split];
      if (event.kind === 'rows') {
        if (open !== event.video) {
          writer.beginVideo(video.file, video.label);
          open = event.video;
        }
        writer.appendFrames(event.rows);
        report.run.frames += event.count;
        continue;
      }
      if (event.kind === 'end') {
        writer.endVideo();
        if (event.frames < clipLength) {
          report.short.push({ split: writer.split, file: video.file, frames: event.frames });
        }
      } else {
        // Frames before the error were written: drop them, so the split holds whole videos only.
        if (open === event.video) writer.abortVideo();
        report.failed.push({ split: writer.split, file: video.file, reason: event.message });
        log(`skipped ${event.message}`);
        await saveReport();
      }
      open = -1;
      videosDone++;
      progress(writer.split);
    }
    for (const [s, split] of manifest.splits.entries()) {
      const writer = writers[s];
      await writer.finish();
      report.splits[split.name] = {
        listed: split.videos.length,
        extracted: writer.videos.length,
        frames: writer.videos.reduce((n, v) => n + v.frames, 0),
      };
    }
  } catch (err) {
    report.stopped = err instanceof Error ? err.message.split('\n')[0] : String(err);
    finishRun(report, started);
    await saveReport().catch(() => {});
    throw err;
  } finally {
    for (const writer of writers) {
      // After a failure mid-video, cut the file back to its complete videos before closing (best effort:
      // resuming drops such rows anyway).
      try {
        writer.abortVideo();
      } catch {
        // the file is closed or the disk refuses even this; the journal still marks the complete videos
      }
      writer.close();
    }
  }
  report.complete = true;
  finishRun(report, started);
  await saveReport();
  await writeDatasetJson(
    outDir,
    datasetInfo(backbone, fps, manifest, settings, opts.invokedAs, true, report),
  );
  return report;
}

export function finishRun(report: ExtractReport, started: number): void {
  const seconds = (performance.now() - started) / 1000;
  report.run.seconds = seconds;
  report.run.framesPerS = seconds > 0 ? report.run.frames / seconds : 0;
}

/** Resumes the split's writer; a features file that cannot be resumed (e.g. cut by a crash) is started again. */
async function openWriter(
  dir: string,
  split: string,
  backbone: Backbone,
  compression: string,
  fresh: boolean,
  log: (line: string) => void,
): Promise<FeatureSplitWriter> {
  const opts = {
    L: backbone.L,
    D: backbone.D,
    compression: compression === 'gzip' ? ('gzip' as const) : ('none' as const),
  };
  if (fresh) return FeatureSplitWriter.create(dir, split, opts);
  try {
    return await FeatureSplitWriter.resume(dir, split, opts);
  } catch (err) {
    log(
      `cannot resume split ${split} (${err instanceof Error ? err.message.split('\n')[0] : String(err)}); extracting it again`,
    );
    return FeatureSplitWriter.create(dir, split, opts);
  }
}

/**
 * Where to continue in the manifest: complete videos must appear in manifest order; listed videos between
 * them failed in the earlier run.
 */
function skipDone(
  writer: FeatureSplitWriter,
  videos: readonly ManifestVideo[],
  outDir: string,
): { index: number; skipped: string[] } {
  let index = 0;
  const skipped: string[] = [];
  for (const done of writer.videos) {
    let j = index;
    while (j < videos.length && videos[j].file !== done.file) j++;
    if (j === videos.length) {
      throw new Error(
        `${splitFiles(outDir, writer.split).features}: holds video ${done.file}, which the dataset does not list in that order; use --overwrite`,
      );
    }
    skipped.push(...videos.slice(index, j).map((v) => v.file));
    index = j + 1;
  }
  return { index, skipped };
}

/** True when `outDir` holds an earlier extraction with the same settings; throws when it holds something else. */
export async function matchesEarlierRun(
  outDir: string,
  settings: ExtractionSettings,
  manifest: DatasetManifest,
): Promise<boolean> {
  const info = await readDatasetInfo(outDir);
  const anySplit = manifest.splits.some(
    (s) => existsSync(splitFiles(outDir, s.name).features) || existsSync(journalPath(outDir, s.name)),
  );
  if (!info) {
    if (anySplit) {
      throw new Error(`${outDir}: holds feature files but no dataset.json; use --overwrite to replace them`);
    }
    return false;
  }
  const extraction = (info.provenance as { extraction?: { settings?: unknown } } | undefined)?.extraction;
  if (!extraction || JSON.stringify(extraction.settings) !== JSON.stringify(settings)) {
    const before = extraction?.settings as Partial<ExtractionSettings> | undefined;
    const what = before ? differences(before, settings) : 'it was not made by glimpse extract';
    throw new Error(
      `${path.join(outDir, 'dataset.json')}: this folder holds features made differently (${what}); use --overwrite or another --out`,
    );
  }
  return true;
}

function differences(before: Partial<ExtractionSettings>, now: ExtractionSettings): string {
  const keys = Object.keys(now) as (keyof ExtractionSettings)[];
  const changed = keys.filter((k) => JSON.stringify(before[k]) !== JSON.stringify(now[k]));
  return changed.length ? `${changed.join(', ')} changed` : 'settings changed';
}

export async function clearEarlierRun(outDir: string, manifest: DatasetManifest): Promise<void> {
  for (const split of manifest.splits) {
    const files = splitFiles(outDir, split.name);
    for (const file of [
      files.features,
      files.framenum,
      files.labels,
      files.filename,
      journalPath(outDir, split.name),
    ]) {
      await rm(file, { force: true });
    }
  }
  await rm(path.join(outDir, EXTRACT_REPORT), { force: true });
}

async function earlierFailures(outDir: string): Promise<Map<string, string>> {
  const file = path.join(outDir, EXTRACT_REPORT);
  const reasons = new Map<string, string>();
  if (!existsSync(file)) return reasons;
  try {
    const report = JSON.parse(await readFile(file, 'utf8')) as Partial<ExtractReport>;
    for (const f of report.failed ?? []) reasons.set(`${f.split}/${f.file}`, f.reason);
  } catch {
    // An unreadable old report only costs the reasons; the videos are still listed as failed.
  }
  return reasons;
}

export function datasetInfo(
  backbone: Backbone,
  fps: number,
  manifest: DatasetManifest,
  settings: ExtractionSettings,
  invokedAs: string | undefined,
  complete: boolean,
  report?: ExtractReport,
): DatasetInfo {
  const extraction: { [key: string]: JsonValue } = {
    settings: settings as unknown as JsonValue,
    complete,
    backboneSource: { ...backbone.source } as unknown as JsonValue,
    node: backbone.node,
    preprocessing: `(rgb − ${backbone.mean}) × ${backbone.scale}, whole frame resized to ${backbone.inputSize}×${backbone.inputSize} (bilinear, no crop)`,
    datasetKind: manifest.kind,
    protocol: manifest.protocol,
    videosDir: manifest.root,
    multilabel: manifest.multilabel,
    tool: 'glimpse extract',
    node_version: process.version,
  };
  if (invokedAs) extraction.command = invokedAs;
  if (report) {
    extraction.finished = new Date().toISOString();
    extraction.failedVideos = report.failed.length;
    extraction.shortVideos = report.short.length;
  }
  return {
    backbone: backbone.id,
    frameSize: { width: backbone.inputSize, height: backbone.inputSize },
    fps,
    locations: backbone.L,
    ctxDim: backbone.D,
    layout: 'channel-major',
    provenance: { extraction },
  };
}
