/**
 * Extraction over the queue: the coordinator's side of `glimpse extract --queue`. The manifest's videos
 * go out in jobs of a few videos; each worker writes its rows to a shard in `<out>/.queue/`; once every
 * job is in, the shards are checked and merged in manifest order through the same FeatureSplitWriter
 * calls a single-machine run makes (one video at a time, the same batches, the same flushes), so the
 * split's features are the same bytes; the report, dataset.json and classes.txt are those of extract.ts.
 *
 * API (for the CLI and the engine):
 *   runQueuedExtraction(opts, { signal, onProgress, log }) → Promise<ExtractReport>
 * onProgress(progress, detail): the common Progress, and QueueProgress {done, total, rate, etaSeconds,
 * workers: {id, host, alive}[], …}. Throws a one-line Error when the queue does not answer, Redis is too
 * old, the output folder is not writable, another coordinator holds the output, or jobs failed for good
 * (then nothing is merged; the complete shards stay, and running again resumes from them).
 */
import { access, mkdir, rm, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import path from 'node:path';
import { throwIfAborted } from '../../common/progress.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { FeatureSplitWriter, writeClasses, writeDatasetJson } from '../../model/data/writer.ts';
import { loadDatasetManifest, type DatasetLoadOptions } from '../datasets/kinds.ts';
import type { Backbone } from '../features/backbone.ts';
import {
  clearEarlierRun,
  datasetInfo,
  emptyExtractReport,
  EXTRACT_REPORT,
  extractionSettings,
  finishRun,
  matchesEarlierRun,
  type ExtractReport,
} from '../features/extract.ts';
import { FEATURE_BATCH } from '../features/video-features.ts';
import { locateFfmpeg } from '../media/locate.ts';
import { GLIMPSE_VERSION } from './connection.ts';
import {
  failedJobsLine,
  QueueSession,
  runIdOf,
  runJobs,
  type CoordinatorOptions,
  type FailedJob,
  type PlannedJob,
  type QueueRunHooks,
} from './coordinator.ts';
import type { ExtractJobData, ShardVideo } from './jobs.ts';
import { readShard, shardName } from './shards.ts';

export interface QueuedExtractionOptions extends CoordinatorOptions {
  videosDir: string;
  kind: string;
  outDir: string;
  /** The backbone as the coordinator loaded it; workers load `backboneSpec` and must get the same model. */
  backbone: Backbone;
  /** What the backbone was loaded from, with its options, for the workers. */
  backboneSpec: { spec: string; node?: string };
  fps?: number;
  batch?: number;
  clipLength?: number;
  dataset?: DatasetLoadOptions;
  compression?: 'none' | 'gzip';
  overwrite?: boolean;
  invokedAs?: string;
  /** Videos per job (default 4). */
  videosPerJob?: number;
}

/** Where a queued run keeps its shards: inside the output, so on the storage the workers write. */
export function shardsDirOf(outDir: string): string {
  return path.join(outDir, '.queue');
}

type ExtractShardMeta = { L: number; D: number; videos: (ShardVideo & { batches: number[] })[] };

/** Thrown when jobs failed for good: the run's one line, and the list. */
export class QueueJobsFailed extends Error {
  constructor(
    message: string,
    readonly failed: FailedJob[],
  ) {
    super(message);
    this.name = 'QueueJobsFailed';
  }
}

export async function runQueuedExtraction(
  opts: QueuedExtractionOptions,
  hooks: QueueRunHooks = {},
): Promise<ExtractReport> {
  const fps = opts.fps ?? 30;
  const batch = opts.batch ?? FEATURE_BATCH;
  const clipLength = opts.clipLength ?? 30;
  const log = hooks.log ?? (() => {});
  const { backbone } = opts;
  const outDir = path.resolve(opts.outDir);
  const manifest = await loadDatasetManifest(opts.kind, opts.videosDir, opts.dataset ?? {});
  await locateFfmpeg();
  const settings = extractionSettings(backbone, fps, manifest, opts.compression ?? 'none');
  const shardsDir = shardsDirOf(outDir);
  await checkWritable(shardsDir);
  const session = await QueueSession.open(opts);
  try {
    const runId = runIdOf('extract', outDir, settings);
    const lock = await session.lock(outDir, runId);
    try {
      const fresh = opts.overwrite || !(await matchesEarlierRun(outDir, settings, manifest));
      if (fresh) await clearEarlierRun(outDir, manifest);
      await writeDatasetJson(outDir, datasetInfo(backbone, fps, manifest, settings, opts.invokedAs, false));
      await writeClasses(outDir, manifest.classes);

      const planned = planJobs(manifest.root, manifest.splits, opts.videosPerJob ?? 4, {
        runId,
        shardsDir,
        glimpseVersion: GLIMPSE_VERSION,
        backbone: {
          spec: opts.backboneSpec.spec,
          ...(opts.backboneSpec.node ? { node: opts.backboneSpec.node } : {}),
          inputSize: backbone.inputSize,
          mean: backbone.mean,
          scale: backbone.scale,
          modelJsonSha256: backbone.source.modelJsonSha256,
          weightsSha256: backbone.source.weightsSha256,
        },
        fps,
        batch,
      });
      const started = performance.now();
      const check = (data: ExtractJobData) => checkExtractShard(data, backbone);
      const { failed, resumedUnits } = await runJobs(session, runId, planned, check, 'videos', hooks);
      if (failed.length > 0) {
        const list = failedJobsLine(failed);
        throw new QueueJobsFailed(
          `${failed.length} of ${planned.length} jobs failed, nothing merged (complete shards are kept; run again to retry): ${list}`,
          failed,
        );
      }
      throwIfAborted(hooks.signal);
      log('merging shards');
      const report = await merge(
        planned,
        backbone,
        manifest.splits,
        outDir,
        settings.compression,
        clipLength,
        manifest.root,
        manifest.kind,
      );
      report.run.resumedVideos = resumedUnits;
      finishRun(report, started);
      report.run.frames = Object.values(report.splits).reduce((n, s) => n + s.frames, 0);
      report.run.framesPerS = report.run.seconds > 0 ? report.run.frames / report.run.seconds : 0;
      await writeFileAtomic(path.join(outDir, EXTRACT_REPORT), JSON.stringify(report, null, 2) + '\n');
      await writeDatasetJson(
        outDir,
        datasetInfo(backbone, fps, manifest, settings, opts.invokedAs, true, report),
      );
      await rm(shardsDir, { recursive: true, force: true });
      log(`merged ${planned.length} shards: ${report.run.frames} frames`);
      return report;
    } finally {
      await lock.release();
    }
  } finally {
    await session.close();
  }
}

/** Refuses an output where shards cannot be written, before anything is enqueued. */
async function checkWritable(dir: string): Promise<void> {
  try {
    await mkdir(dir, { recursive: true });
    await access(dir, constants.W_OK);
    const probe = path.join(dir, `.probe-${process.pid}`);
    await writeFile(probe, '');
    await rm(probe, { force: true });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? 'error';
    throw new Error(
      `${dir}: the output folder is not writable (${code}); the workers write their shards there`,
    );
  }
}

function planJobs(
  root: string,
  splits: readonly { name: string; videos: readonly { file: string; label: number | number[] }[] }[],
  perJob: number,
  common: Omit<ExtractJobData, 'kind' | 'index' | 'videosRoot' | 'videos'>,
): PlannedJob<ExtractJobData>[] {
  const jobs: PlannedJob<ExtractJobData>[] = [];
  for (const split of splits) {
    for (let first = 0; first < split.videos.length; first += perJob) {
      const videos = split.videos
        .slice(first, first + perJob)
        .map((v) => ({ split: split.name, file: v.file, label: v.label }));
      jobs.push({
        data: { ...common, kind: 'extract', index: jobs.length, videosRoot: root, videos },
        units: videos.length,
        what: `${split.name}: ${videos[0].file}${videos.length > 1 ? ` … ${videos[videos.length - 1].file}` : ''}`,
      });
    }
  }
  return jobs;
}

/** The shard of an extraction job, checked against the job: same videos in order, rows adding up. */
async function checkExtractShard(data: ExtractJobData, backbone: Backbone) {
  const shard = await readShard<ExtractShardMeta>(
    data.shardsDir,
    shardName('extract', data.index),
    { runId: data.runId, index: data.index, kind: 'extract' },
    (meta) => {
      if (meta.L !== backbone.L || meta.D !== backbone.D)
        return `rows of ${meta.L}×${meta.D}, the run's are ${backbone.L}×${backbone.D}`;
      const names = (meta.videos ?? []).map((v) => `${v.split}/${v.file}`).join('|');
      if (names !== data.videos.map((v) => `${v.split}/${v.file}`).join('|'))
        return 'lists other videos than its job';
      for (const v of meta.videos) {
        if (v.batches.reduce((a, b) => a + b, 0) !== v.frames)
          return `${v.file}: batch sizes do not add up to its frames`;
      }
      const rows = meta.videos.reduce((n, v) => n + v.frames, 0);
      if (rows * meta.L * meta.D * 4 !== meta.bytes)
        return `${rows} rows do not make its ${meta.bytes} bytes`;
      return null;
    },
  );
  return shard.ok ? { ok: true as const, value: shard.meta.worker } : shard;
}

/** Writes the splits from the shards, in manifest order, exactly as extract.ts writes them. */
async function merge(
  planned: readonly PlannedJob<ExtractJobData>[],
  backbone: Backbone,
  splits: readonly { name: string; videos: readonly unknown[] }[],
  outDir: string,
  compression: string,
  clipLength: number,
  videosDir: string,
  kind: string,
): Promise<ExtractReport> {
  const report = emptyExtractReport({ videosDir, kind, outDir, backbone: backbone.id, clipLength });
  const width = backbone.L * backbone.D;
  const writers = new Map<string, FeatureSplitWriter>();
  try {
    for (const split of splits) {
      writers.set(
        split.name,
        await FeatureSplitWriter.create(outDir, split.name, {
          L: backbone.L,
          D: backbone.D,
          compression: compression === 'gzip' ? 'gzip' : 'none',
        }),
      );
    }
    for (const p of planned) {
      // Checked again here: a shard changed since its job completed is not merged.
      const shard = await readShard<ExtractShardMeta>(
        p.data.shardsDir,
        shardName('extract', p.data.index),
        { runId: p.data.runId, index: p.data.index, kind: 'extract' },
        () => null,
      );
      if (!shard.ok) throw new Error(`${shard.problem}; not merged (run again to redo job ${p.data.index})`);
      // Copied: a Buffer's offset need not be a multiple of 4.
      const rows = new Float32Array(shard.payload.byteLength / 4);
      new Uint8Array(rows.buffer).set(shard.payload);
      let at = 0;
      for (const v of shard.meta.videos) {
        const writer = writers.get(v.split) as FeatureSplitWriter;
        if (v.frames > 0) writer.beginVideo(v.file, v.label);
        for (const n of v.batches) {
          writer.appendFrames(rows.subarray(at * width, (at + n) * width));
          at += n;
        }
        if (v.failed !== undefined) {
          writer.abortVideo();
          report.failed.push({ split: v.split, file: v.file, reason: v.failed });
          continue;
        }
        writer.endVideo();
        if (v.frames < clipLength) report.short.push({ split: v.split, file: v.file, frames: v.frames });
      }
    }
    for (const split of splits) {
      const writer = writers.get(split.name) as FeatureSplitWriter;
      await writer.finish();
      report.splits[split.name] = {
        listed: split.videos.length,
        extracted: writer.videos.length,
        frames: writer.videos.reduce((n, v) => n + v.frames, 0),
      };
    }
  } finally {
    for (const writer of writers.values()) writer.close();
  }
  report.complete = true;
  return report;
}
