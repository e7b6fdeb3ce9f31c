/**
 * Frames of a list of videos, decoded ahead in a worker thread (decode-worker.ts) so that decoding the
 * next frames overlaps the CNN's work on the current batch. Batches never span two videos and start at
 * frame 0, N, 2N, … of each video, so the batches, and thus the features, do not depend on where an
 * interrupted extraction resumed.
 */
import { Worker } from 'node:worker_threads';

export interface DecodeWorkerInput {
  files: string[];
  fps: number;
  /** Frames are resized (whole frame, no crop) to size × size. */
  size: number;
  batch: number;
  aheadFrames: number;
}

export type MainToWorker = { kind: 'ack'; frames: number } | { kind: 'stop' };

export type WorkerToMain =
  | { kind: 'frames'; video: number; rgb: Uint8Array; count: number }
  | { kind: 'end'; video: number; frames: number }
  | { kind: 'error'; video: number; message: string }
  | { kind: 'done' };

/** What the consumer sees, in video order: batches of a video, then its end or its decoding error. */
export type FrameEvent = Exclude<WorkerToMain, { kind: 'done' }>;

export interface FrameSourceOptions {
  fps: number;
  size: number;
  /** Frames per batch. */
  batch: number;
  /** Batches decoded ahead of the consumer (default 4). */
  aheadBatches?: number;
}

/** The worker runs TypeScript: it registers tsx itself, as bin/glimpse.js does for the main thread. */
function startWorker(data: DecodeWorkerInput): Worker {
  const tsx = import.meta.resolve('tsx/esm/api');
  const entry = new URL('./decode-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(tsx)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(boot, { eval: true, workerData: data });
}

/**
 * Yields frame batches of `files` in order. Breaking out of the loop (or an error in it) stops the worker
 * and its ffmpeg.
 */
export async function* decodeVideos(
  files: readonly string[],
  opts: FrameSourceOptions,
): AsyncGenerator<FrameEvent> {
  if (files.length === 0) return;
  const worker = startWorker({
    files: [...files],
    fps: opts.fps,
    size: opts.size,
    batch: opts.batch,
    aheadFrames: opts.batch * (opts.aheadBatches ?? 4),
  });
  const queue: (WorkerToMain | { kind: 'failed'; error: Error })[] = [];
  let wake: (() => void) | null = null;
  const push = (item: (typeof queue)[number]) => {
    queue.push(item);
    wake?.();
    wake = null;
  };
  worker.on('message', (m: WorkerToMain) => push(m));
  worker.on('error', (error: Error) => push({ kind: 'failed', error }));
  const exited = new Promise<number>((resolve) => worker.on('exit', resolve));
  exited.then((code) => push({ kind: 'failed', error: new Error(`decoder thread exited (code ${code})`) }));
  let finished = false;
  try {
    for (;;) {
      while (queue.length === 0) await new Promise<void>((resolve) => (wake = resolve));
      const item = queue.shift() as (typeof queue)[number];
      if (item.kind === 'done') {
        finished = true;
        return;
      }
      if (item.kind === 'failed')
        throw new Error(`frame decoding stopped: ${item.error.message.split('\n')[0]}`);
      if (item.kind === 'frames')
        worker.postMessage({ kind: 'ack', frames: item.count } satisfies MainToWorker);
      yield item;
    }
  } finally {
    if (!finished) {
      // Let the worker abort ffmpeg cleanly; terminate it if it does not exit promptly.
      worker.postMessage({ kind: 'stop' } satisfies MainToWorker);
      const timer = setTimeout(() => void worker.terminate(), 5000);
      await exited;
      clearTimeout(timer);
    } else {
      await exited;
    }
  }
}
