/**
 * `glimpse worker`: takes extraction and evaluation jobs from the queue, writes each job's shard to the
 * shared output folder and answers with where it is. BullMQ keeps the job's lock alive while it runs (a
 * worker that dies stops renewing it, and after lockDuration another worker's stalled check gives the
 * job to someone else). Aborting the signal (SIGTERM) puts the job being run back in the queue at once
 * and closes the worker.
 *
 * Compatibility: a job names the coordinator's glimpse version, backbone (spec and sha256 of its model
 * and weights) or checkpoint (sha256). A worker that has another version, loads another backbone (or is
 * pinned to one with `backbone`), or reads another checkpoint at that path, fails the job with the reason.
 */
import os from 'node:os';
import path from 'node:path';
import { Worker, WaitingError, type Job } from 'bullmq';
import { throwIfAborted } from '../../common/progress.ts';
import { clipsOf, evaluateClips } from '../../model/evaluate.ts';
import { modelHash } from '../engine/models.ts';
import { loadBackbone, type Backbone } from '../features/backbone.ts';
import { featureBatches } from '../features/video-features.ts';
import { openForEvaluation } from '../workflows/evaluation.ts';
import {
  checkQueueServer,
  GLIMPSE_VERSION,
  parseQueueUrl,
  QUEUE_NAME,
  queueConnection,
} from './connection.ts';
import type {
  BackboneRef,
  EvaluateJobData,
  EvaluationShard,
  ExtractJobData,
  JobResult,
  QueueJobData,
  ShardVideo,
} from './jobs.ts';
import { shardName, writeShard } from './shards.ts';

export interface WorkerOptions {
  /** redis://HOST:PORT[/DB] */
  queue: string;
  /** Jobs run at once by this process (default 1). */
  concurrency?: number;
  /** The tensor backend chosen by the caller (for the shards' provenance). */
  backendName: string;
  /** Serve extraction jobs of this backbone only (loaded once, here); default: load the job's spec. */
  backbone?: string;
  cacheDir?: string;
  /** How long a job's lock lasts without renewal (default 30 s); a dead worker's job waits this long. */
  lockDurationMs?: number;
  /** How often this worker looks for stalled jobs of dead workers (default 30 s). */
  stalledIntervalMs?: number;
  log?: (line: string) => void;
}

/** Worker name: host and process, as the coordinator lists its workers. */
export function workerName(): string {
  return `${os.hostname()}:${process.pid}`;
}

/** Runs until `signal` aborts, then returns the job in hand to the queue and closes. */
export async function runWorker(opts: WorkerOptions, signal: AbortSignal): Promise<void> {
  const target = parseQueueUrl(opts.queue);
  await checkQueueServer(target);
  const log = opts.log ?? (() => {});
  const name = workerName();
  const backbones = new Backbones(opts.backbone, opts.cacheDir);
  if (opts.backbone) await backbones.pinned();

  const processor = async (job: Job<QueueJobData, JobResult>, token?: string): Promise<JobResult> => {
    const data = job.data;
    try {
      if (data.glimpseVersion !== GLIMPSE_VERSION) {
        throw new Error(
          `worker ${name} refuses: it runs glimpse ${GLIMPSE_VERSION}, the coordinator ${data.glimpseVersion}`,
        );
      }
      log(`job ${job.id}: ${data.kind} ${describe(data)}`);
      const shard =
        data.kind === 'extract'
          ? await extractJob(data, await backbones.for(data.backbone, name), signal, name, opts.backendName)
          : await evaluateJob(data, signal, name, opts.backendName);
      log(`job ${job.id}: done → ${shard}`);
      return { shard, worker: name, backend: opts.backendName };
    } catch (err) {
      if (signal.aborted) {
        // Stopping: the job goes back to the queue for another worker, not to the failed list.
        await job.moveToWait(token);
        throw new WaitingError();
      }
      const line = err instanceof Error ? err.message.split('\n')[0] : String(err);
      log(`job ${job.id}: failed: ${line}`);
      throw new Error(line);
    }
  };

  const connection = queueConnection(target);
  const worker = new Worker<QueueJobData, JobResult>(QUEUE_NAME, processor, {
    connection,
    // Seconds an idle worker blocks waiting for a job: also how long closing can wait for that call.
    drainDelay: 1,
    name,
    concurrency: opts.concurrency ?? 1,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: 3,
    autorun: false,
  });
  worker.on('error', (err) => log(`queue: ${err.message.split('\n')[0]}`));
  const stopped = new Promise<void>((resolve) =>
    signal.addEventListener('abort', () => resolve(), { once: true }),
  );
  // Joined before saying so (and before a stop can close connections still being opened).
  await worker.waitUntilReady();
  log(`worker ${name} on ${target.label} (glimpse ${GLIMPSE_VERSION}, backend ${opts.backendName})`);
  const running = worker.run();
  await Promise.race([stopped, running]);
  await worker.close();
  await running.catch(() => {});
  connection.disconnect();
  backbones.dispose();
}

function describe(data: QueueJobData): string {
  return data.kind === 'extract'
    ? `${data.videos.length} videos from ${data.videos[0]?.file ?? '-'}`
    : `clips ${data.first}..${data.end - 1} of ${data.split}`;
}

/** The backbones this worker has loaded, by what they were loaded from. */
class Backbones {
  private readonly loaded = new Map<string, Promise<Backbone>>();

  constructor(
    private readonly pin: string | undefined,
    private readonly cacheDir: string | undefined,
  ) {}

  pinned(): Promise<Backbone> {
    return this.load(this.pin as string, {});
  }

  async for(ref: BackboneRef, name: string): Promise<Backbone> {
    const backbone = this.pin
      ? await this.pinned()
      : await this.load(ref.spec, {
          node: ref.node,
          inputSize: ref.inputSize,
          mean: ref.mean,
          scale: ref.scale,
        });
    const problem = backboneDifference(backbone, ref);
    if (problem) throw new Error(`worker ${name} refuses: its backbone ${backbone.source.spec} ${problem}`);
    return backbone;
  }

  private load(
    spec: string,
    o: { node?: string; inputSize?: number; mean?: number; scale?: number },
  ): Promise<Backbone> {
    const key = JSON.stringify([spec, o]);
    let p = this.loaded.get(key);
    if (!p) {
      p = loadBackbone(spec, { ...o, cacheDir: this.cacheDir });
      // A backbone that fails to load is tried again for the next job (the folder may be fixed).
      p.catch(() => this.loaded.delete(key));
      this.loaded.set(key, p);
    }
    return p;
  }

  dispose(): void {
    for (const p of this.loaded.values()) p.then((b) => b.dispose()).catch(() => {});
  }
}

function backboneDifference(b: Backbone, ref: BackboneRef): string | null {
  const short = (h: string) => h.slice(0, 12);
  if (b.source.modelJsonSha256 !== ref.modelJsonSha256 || b.source.weightsSha256 !== ref.weightsSha256) {
    return (
      `differs from the run's ${ref.spec} (model.json ${short(b.source.modelJsonSha256)}…, weights ${short(b.source.weightsSha256)}… here; ` +
      `${short(ref.modelJsonSha256)}…, ${short(ref.weightsSha256)}… for the run)`
    );
  }
  if (b.inputSize !== ref.inputSize || b.mean !== ref.mean || b.scale !== ref.scale) {
    return `has other preprocessing (input ${b.inputSize}, mean ${b.mean}, scale ${b.scale}; the run's: ${ref.inputSize}, ${ref.mean}, ${ref.scale})`;
  }
  return null;
}

/** The job's videos through the backbone, as extract.ts does them; rows and per-batch sizes go to the shard. */
async function extractJob(
  data: ExtractJobData,
  backbone: Backbone,
  signal: AbortSignal,
  worker: string,
  backend: string,
): Promise<string> {
  const files = data.videos.map((v) => path.join(data.videosRoot, v.file));
  const videos: (ShardVideo & { batches: number[] })[] = data.videos.map((v) => ({
    ...v,
    frames: 0,
    batches: [],
  }));
  const parts: Uint8Array[] = [];
  for await (const event of featureBatches(files, backbone, { fps: data.fps, batch: data.batch })) {
    throwIfAborted(signal);
    const video = videos[event.video];
    if (event.kind === 'rows') {
      // A copy: the rows' buffer may be reused for the next batch.
      parts.push(Buffer.from(Buffer.from(event.rows.buffer, event.rows.byteOffset, event.rows.byteLength)));
      video.frames += event.count;
      video.batches.push(event.count);
    } else if (event.kind === 'error') {
      video.failed = event.message;
    }
  }
  const payload = Buffer.concat(parts);
  return writeShard(
    data.shardsDir,
    shardName('extract', data.index),
    { runId: data.runId, index: data.index, kind: 'extract', worker, backend },
    { L: backbone.L, D: backbone.D, videos },
    payload,
  );
}

/** The job's clips through the checkpoint; their outcomes (JSON) go to the shard. */
async function evaluateJob(
  data: EvaluateJobData,
  signal: AbortSignal,
  worker: string,
  backend: string,
): Promise<string> {
  const sha256 = await modelHash(data.model.path);
  if (sha256 !== data.model.sha256) {
    throw new Error(
      `worker ${worker} refuses: ${data.model.path} here has sha256 ${sha256.slice(0, 12)}…, the run's ${data.model.sha256.slice(0, 12)}…`,
    );
  }
  const opened = await openForEvaluation(data.model.path, data.dataset, data.split, data.model.multilabel);
  using model = opened.model;
  using split = opened.split;
  const settings = { ...data.settings, workers: 1, signal };
  const clips = clipsOf(split, settings).slice(data.first, data.end);
  if (clips.length !== data.end - data.first) {
    throw new Error(
      `${split.featuresPath}: has ${clipsOf(split, settings).length} clips, the run expects at least ${data.end}`,
    );
  }
  const shard: EvaluationShard = { outcomes: await evaluateClips(model, split, clips, settings) };
  return writeShard(
    data.shardsDir,
    shardName('evaluate', data.index),
    { runId: data.runId, index: data.index, kind: 'evaluate', worker, backend },
    { first: data.first, end: data.end, modelSha256: sha256 },
    Buffer.from(JSON.stringify(shard)),
  );
}
