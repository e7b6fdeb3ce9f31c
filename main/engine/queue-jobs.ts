/**
 * Queued engine jobs: an extract or evaluate job with `queue` runs main/queue's coordinator in its task
 * thread, like a local job (BullMQ and ioredis only hold sockets and timers, which a worker thread keeps as
 * well as the main one; the thread's event loop stays free while workers elsewhere compute). Its progress
 * events carry the queue's side (workers seen, queue jobs done, notices) for the job list. main/queue, and
 * with it bullmq and ioredis, is loaded only for such jobs.
 *
 * Cancel: the coordinator takes the run's waiting queue jobs out of Redis; jobs a worker already holds
 * finish into their shards, which resuming the job (or starting the same one again) uses, so no finished
 * work is lost and no stray work keeps the lab's workers busy.
 */
import path from 'node:path';
import type { Progress } from '../../common/progress.ts';
import type { Backbone } from '../features/backbone.ts';
import type { ExtractReport } from '../features/extract.ts';
import type { QueueProgress, QueueRunHooks } from '../queue/coordinator.ts';
import type { EvaluationReport, EvaluationSpec } from '../workflows/evaluation.ts';
import type { QueueJobStatus } from './api.ts';
import { GlimpseError } from './errors.ts';

const NOTICES_KEPT = 5;

/** Progress with the queue's side, as a task thread posts it. */
export type QueuedProgress = (p: Progress, queue: QueueJobStatus) => void;

/** The folder of a queued evaluation's shards: in the dataset, which every worker reads, one per request key. */
export function evaluationShardsDir(dataset: string, key: string): string {
  return path.join(dataset, '.queue-evaluate', key);
}

/**
 * A coordinator's one-line error as the API's: the queue's own problems (it does not answer, an old Redis)
 * are 'bad-request' (the job named a queue it cannot use), another coordinator on the output is 'busy';
 * the rest (videos, files) is left to the caller's file mapping.
 */
async function asQueueError<T>(label: string, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (err) {
    if (!(err instanceof Error) || err.name === 'CancelledError') throw err;
    const line = err.message.split('\n')[0];
    if (line.includes('another coordinator is running')) throw new GlimpseError('busy', line);
    if (line.startsWith(label) || line.startsWith('--queue')) throw new GlimpseError('bad-request', line);
    throw err;
  }
}

/** The coordinator's hooks, turning its QueueProgress and log lines into QueueJobStatus events. */
async function hooksFor(
  url: string,
  unit: QueueJobStatus['unit'],
  signal: AbortSignal | undefined,
  onProgress: QueuedProgress,
): Promise<QueueRunHooks & { label: string }> {
  const { parseQueueUrl } = await import('../queue/connection.ts');
  const label = await asQueueError(url, async () => parseQueueUrl(url).label);
  let status: QueueJobStatus = {
    url: label,
    workers: [],
    done: 0,
    total: 0,
    unit,
    jobsDone: 0,
    jobsTotal: 0,
    failedJobs: 0,
    notices: [],
  };
  let last: Progress = { fraction: 0, rate: null, rateUnit: `${unit}/s`, eta: null, message: 'connecting' };
  onProgress(last, status);
  const update = (d: QueueProgress) => {
    const { done, total, jobsDone, jobsTotal, failedJobs, workers } = d;
    status = {
      ...status,
      done,
      total,
      jobsDone,
      jobsTotal,
      failedJobs,
      workers: workers.map((w) => ({ ...w })),
    };
  };
  return {
    label,
    signal,
    onProgress: (p, d) => {
      update(d);
      last = p;
      onProgress(p, status);
    },
    log: (line) => {
      status = { ...status, notices: [...status.notices, line].slice(-NOTICES_KEPT) };
      onProgress(last, status);
    },
  };
}

export async function queuedExtraction(
  spec: {
    videosDir: string;
    datasetKind: string;
    outDir: string;
    backbone?: string;
    fps?: number;
    queue: string;
  },
  backbone: Backbone,
  signal: AbortSignal | undefined,
  onProgress: QueuedProgress,
): Promise<ExtractReport> {
  const hooks = await hooksFor(spec.queue, 'videos', signal, onProgress);
  const { runQueuedExtraction } = await import('../queue/extraction.ts');
  return asQueueError(hooks.label, () =>
    runQueuedExtraction(
      {
        queue: spec.queue,
        videosDir: spec.videosDir,
        kind: spec.datasetKind,
        outDir: spec.outDir,
        backbone,
        backboneSpec: { spec: spec.backbone ?? 'builtin' },
        fps: spec.fps,
        invokedAs: 'glimpse engine: extract job (queued)',
      },
      hooks,
    ),
  );
}

export async function queuedEvaluation(
  request: EvaluationSpec,
  queue: string,
  shardsDir: string,
  signal: AbortSignal | undefined,
  onProgress: QueuedProgress,
): Promise<EvaluationReport> {
  const hooks = await hooksFor(queue, 'clips', signal, onProgress);
  const { runQueuedEvaluation } = await import('../queue/evaluation.ts');
  return asQueueError(hooks.label, () => runQueuedEvaluation(request, { queue, shardsDir }, hooks));
}
