/**
 * The queue's figures for `glimpse bench` (issue 9): extraction frames/s of a generated synthetic set through
 * a local Redis with 1 and then 2 `glimpse worker` processes on this machine (built-in backbone), their
 * ratio (the scaling figure), and the queue's overhead per job.
 *
 * Definitions. A run's time is the wall time of runQueuedExtraction, from planning to the merged splits,
 * with the workers already joined (each started with `--backbone builtin`, so the backbone is loaded before
 * it joins). Overhead per job = (time with 1 worker − time of the same extraction in this process without
 * a queue) / jobs: what the queue adds per job of work (Redis round trips, shard write and check, the merge,
 * a worker process of its own), on the same CPU.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { generateSynthDataset } from '../datasets/synth.ts';
import { loadBackbone } from '../features/backbone.ts';
import { extractFeatures } from '../features/extract.ts';
import { startLocalRedis, startWorkerProcess, type WorkerProcess } from './local-queue.ts';

const SET = { seed: 'bench-queue', classes: 4, frames: 150 } as const;
/** Videos per class of the generated set by default: 16 videos, 2400 frames. */
export const QUEUE_BENCH_VIDEOS = 4;
const VIDEOS_PER_JOB = 2;

export interface QueueBenchRun {
  workers: number;
  seconds: number;
  framesPerS: number;
}

export interface QueueBenchResult {
  backbone: string;
  backend: string;
  videos: number;
  frames: number;
  jobs: number;
  videosPerJob: number;
  /** The same extraction in this process, no queue. */
  local: { seconds: number; framesPerS: number };
  runs: QueueBenchRun[];
  /** frames/s with 2 workers over frames/s with 1. */
  scaling: number;
  overheadPerJobMs: number;
  /** 1-minute load average before and after (the machine is shared). */
  load: { before: number; after: number };
}

export async function benchQueue(opts: {
  backendName: string;
  /** Videos per class of the synthetic set (4 classes, 150 frames each). */
  videosPerClass?: number;
  log?: (line: string) => void;
}): Promise<QueueBenchResult> {
  const log = opts.log ?? (() => {});
  const loadBefore = os.loadavg()[0];
  const work = await mkdtemp(path.join(os.tmpdir(), 'glimpse-bench-queue-'));
  const backbone = await loadBackbone('builtin');
  const redis = await startLocalRedis();
  try {
    const videosDir = path.join(work, 'videos');
    const set = await generateSynthDataset(videosDir, {
      ...SET,
      videos: opts.videosPerClass ?? QUEUE_BENCH_VIDEOS,
    });
    let started = performance.now();
    const local = await extractFeatures({
      videosDir,
      kind: 'synth',
      outDir: path.join(work, 'local'),
      backbone,
    });
    const localSeconds = (performance.now() - started) / 1000;
    const frames = local.run.frames;
    log(`    local (no queue): ${(frames / localSeconds).toFixed(1)} frames/s`);

    const { runQueuedExtraction } = await import('../queue/extraction.ts');
    const runs: QueueBenchRun[] = [];
    let jobs = 0;
    for (const n of [1, 2]) {
      const workers: WorkerProcess[] = [];
      try {
        const args = ['--backend', opts.backendName, '--backbone', 'builtin'];
        for (let i = 0; i < n; i++) workers.push(await startWorkerProcess(redis.url, args));
        started = performance.now();
        let seen = 0;
        const report = await runQueuedExtraction(
          {
            queue: redis.url,
            videosDir,
            kind: 'synth',
            outDir: path.join(work, `queued-${n}`),
            backbone,
            backboneSpec: { spec: 'builtin' },
            videosPerJob: VIDEOS_PER_JOB,
          },
          { onProgress: (_, d) => void (seen = d.jobsTotal) },
        );
        const seconds = (performance.now() - started) / 1000;
        if (report.run.frames !== frames)
          throw new Error(`queued run with ${n} worker(s) made ${report.run.frames} rows, local ${frames}`);
        jobs = seen;
        runs.push({ workers: n, seconds, framesPerS: frames / seconds });
        log(`    ${n} worker(s): ${(frames / seconds).toFixed(1)} frames/s over ${jobs} jobs`);
      } finally {
        for (const w of workers) await w.stop();
      }
    }
    const [one, two] = runs;
    return {
      backbone: backbone.id,
      backend: opts.backendName,
      videos: set.videos.length,
      frames,
      jobs,
      videosPerJob: VIDEOS_PER_JOB,
      local: { seconds: localSeconds, framesPerS: frames / localSeconds },
      runs,
      scaling: two.framesPerS / one.framesPerS,
      overheadPerJobMs: jobs > 0 ? ((one.seconds - localSeconds) * 1000) / jobs : 0,
      load: { before: loadBefore, after: os.loadavg()[0] },
    };
  } finally {
    await redis.stop();
    backbone.dispose();
    await rm(work, { recursive: true, force: true });
  }
}
