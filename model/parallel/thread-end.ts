/**
 * Ending a worker thread that may be inside a native call. `worker.terminate()` stops the thread's JavaScript
 * wherever it is; when that is inside onnxruntime (a session being built or run), the addon's next N-API call
 * fails, it throws a C++ exception nobody catches, and the whole process aborts ("terminate called after
 * throwing an instance of 'Napi::Error'"). So a thread is asked to end itself: it reads the request between two
 * calls, never inside one, and exits. Only a thread that does not reach its event loop for `forceAfterMs` is
 * terminated from outside.
 */
import type { Worker } from 'node:worker_threads';

/** The request every thread of ours takes as "exit now". */
export const EXIT_REQUEST = { type: 'exit' } as const;
export type ExitRequest = typeof EXIT_REQUEST;

const FORCE_AFTER_MS = 30_000;

/** Whether `promise` settles (either way) within `ms`. */
export async function settlesWithin(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    const done = promise.then(
      () => true,
      () => true,
    );
    return await Promise.race([done, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Asks the thread to exit and resolves when it has; terminates it if it has not within `forceAfterMs`. */
export async function endThread(worker: Worker, forceAfterMs = FORCE_AFTER_MS): Promise<void> {
  if (worker.threadId === -1) return;
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  try {
    worker.postMessage(EXIT_REQUEST);
  } catch {
    // The port is closed: the thread is already on its way out.
  }
  if (!(await settlesWithin(exited, forceAfterMs))) await worker.terminate();
}

/** The thread's side: the exit request ends the thread here, between two calls into native code. */
export function exitThread(): never {
  process.exit(0);
}
