/**
 * The engine's side of a task worker thread: runs one task at a time, forwards progress, cancels by
 * asking the task to abort (and gives the thread up when it does not stop within a grace period).
 * Threads are never terminated from outside while they may be inside onnxruntime (model/parallel/thread-end.ts).
 */
import { Worker } from 'node:worker_threads';
import { endThread, settlesWithin } from '../../model/parallel/thread-end.ts';
import type { Progress } from '../../common/progress.ts';
import { GlimpseError } from './errors.ts';
import type { QueueJobStatus } from './api.ts';
import type { FromWorker, Task, TaskResult, ToWorker } from './task-protocol.ts';

const CANCEL_GRACE_MS = 5_000;

/** Registers tsx (and h5wasm first, as bin/register.js explains) inside the thread, then loads the entry. */
function bootWorker(backend: string): Worker {
  const register = new URL('../../bin/register.js', import.meta.url).href;
  const entry = new URL('./task-worker.ts', import.meta.url).href;
  const boot = `import(${JSON.stringify(register)}).then(() => import(${JSON.stringify(entry)}));`;
  return new Worker(boot, { eval: true, workerData: { backend } });
}

export type TaskProgress = (p: Progress, queue?: QueueJobStatus) => void;

interface Running {
  resolve: (result: TaskResult) => void;
  reject: (err: GlimpseError) => void;
  onProgress: TaskProgress;
}

export class TaskThread {
  private readonly worker: Worker;
  private running: Running | null = null;
  private exited = false;
  private cancelTimer: NodeJS.Timeout | null = null;
  /** The backend is still loading: until it has, the thread keeps the process alive. */
  private booting = true;
  /** Settles (never rejects) when the running task has ended. */
  private ended: Promise<void> = Promise.resolve();

  constructor(backend: string) {
    this.worker = bootWorker(backend);
    this.worker.on('message', (message: FromWorker) => this.onMessage(message));
    this.worker.on('error', (err) =>
      this.fail(new GlimpseError('internal', `task thread failed: ${err.message.split('\n')[0]}`)),
    );
    this.worker.on('exit', (code) => {
      this.exited = true;
      this.fail(new GlimpseError('internal', `task thread exited (code ${code})`));
    });
  }

  get busy(): boolean {
    return this.running !== null;
  }

  get alive(): boolean {
    return !this.exited;
  }

  run(task: Task, onProgress: TaskProgress = () => {}): Promise<TaskResult> {
    if (this.running) return Promise.reject(new GlimpseError('busy', 'task thread is busy'));
    if (this.exited) return Promise.reject(new GlimpseError('internal', 'task thread has exited'));
    const result = new Promise<TaskResult>((resolve, reject) => {
      this.running = { resolve, reject, onProgress };
      this.worker.ref();
      this.post({ type: 'run', task });
    });
    this.ended = result.then(
      () => {},
      () => {},
    );
    return result;
  }

  /**
   * Asks the running task to stop; a task that ignores it for CANCEL_GRACE_MS is reported cancelled and its
   * thread asked to exit.
   */
  cancel(): void {
    if (!this.running || this.exited) return;
    this.post({ type: 'cancel' });
    this.cancelTimer ??= setTimeout(() => {
      this.fail(new GlimpseError('cancelled', 'cancelled'));
      void this.end();
    }, CANCEL_GRACE_MS);
    this.cancelTimer.unref();
  }

  /** Ends the thread, a running task first asked to stop and waited for (CANCEL_GRACE_MS at most). */
  async stop(): Promise<void> {
    if (this.running && !this.exited) {
      this.post({ type: 'cancel' });
      await settlesWithin(this.ended, CANCEL_GRACE_MS);
    }
    await this.end();
  }

  /** Ends the thread: it exits by itself between two native calls (thread-end.ts). */
  async end(): Promise<void> {
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    if (!this.exited) await endThread(this.worker);
  }

  private post(message: ToWorker): void {
    this.worker.postMessage(message);
  }

  /** An idle thread (in reserve, or warm between inspects) does not keep the process alive once booted. */
  private releaseIfIdle(): void {
    if (!this.exited && !this.booting && !this.running) this.worker.unref();
  }

  private settle(): Running | null {
    const running = this.running;
    this.running = null;
    this.releaseIfIdle();
    if (this.cancelTimer) clearTimeout(this.cancelTimer);
    this.cancelTimer = null;
    return running;
  }

  private fail(err: GlimpseError): void {
    this.settle()?.reject(err);
  }

  private onMessage(message: FromWorker): void {
    if (message.type === 'ready') {
      this.booting = false;
      this.releaseIfIdle();
    } else if (message.type === 'progress') {
      this.running?.onProgress(message.progress, message.queue);
    } else if (message.type === 'done') {
      this.settle()?.resolve(message.result);
    } else {
      const { code, message: text, file } = message.error;
      this.fail(new GlimpseError(code, text, file));
    }
  }
}
