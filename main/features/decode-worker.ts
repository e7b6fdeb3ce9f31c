/**
 * Worker thread of frame-source.ts: decodes videos one after another with ffmpeg and posts their frames
 * in batches, running ahead of the CNN by at most `aheadFrames` unacknowledged frames. Being a thread of
 * its own, it keeps reading ffmpeg's pipe while the main thread is busy in synchronous inference.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { decodeFrames } from '../media/decode.ts';
import type { DecodeWorkerInput, MainToWorker, WorkerToMain } from './frame-source.ts';

const input = workerData as DecodeWorkerInput;
const port = parentPort;
if (!port) throw new Error('decode-worker.ts must run as a worker thread');

const controller = new AbortController();
let inFlight = 0;
let wake: (() => void) | null = null;

port.on('message', (message: MainToWorker) => {
  if (message.kind === 'ack') inFlight -= message.frames;
  else controller.abort();
  wake?.();
  wake = null;
});

function post(message: WorkerToMain, transfer: ArrayBuffer[] = []): void {
  port?.postMessage(message, transfer);
}

async function roomForMore(): Promise<void> {
  while (inFlight >= input.aheadFrames && !controller.signal.aborted) {
    await new Promise<void>((resolve) => (wake = resolve));
  }
}

async function decodeAll(): Promise<void> {
  const frameBytes = input.size * input.size * 3;
  for (let video = 0; video < input.files.length && !controller.signal.aborted; video++) {
    let batch = new Uint8Array(input.batch * frameBytes);
    let inBatch = 0;
    let frames = 0;
    const flush = async () => {
      await roomForMore();
      if (controller.signal.aborted) return;
      const rgb = inBatch === input.batch ? batch : batch.slice(0, inBatch * frameBytes);
      inFlight += inBatch;
      post({ kind: 'frames', video, rgb, count: inBatch }, [rgb.buffer as ArrayBuffer]);
      batch = new Uint8Array(input.batch * frameBytes);
      inBatch = 0;
    };
    try {
      const decoding = decodeFrames(input.files[video], {
        fps: input.fps,
        width: input.size,
        height: input.size,
        signal: controller.signal,
      });
      for await (const frame of decoding) {
        batch.set(frame.rgb, inBatch * frameBytes);
        inBatch++;
        frames++;
        if (inBatch === input.batch) await flush();
      }
      if (inBatch > 0) await flush();
      post({ kind: 'end', video, frames });
    } catch (err) {
      if (controller.signal.aborted) return;
      const message = err instanceof Error ? err.message : String(err);
      post({ kind: 'error', video, message: message.split('\n')[0].trim() });
    }
  }
}

await decodeAll();
post({ kind: 'done' });
port.close();
