/**
 * Data parallelism over CPU cores: worker threads, each with its own backend and parameter copy, run whole
 * micro-batches (training) or clip batches (inference). The pool broadcasts parameters through one
 * SharedArrayBuffer, sums gradients in micro-batch order (so the result does not depend on which worker finished
 * first) and reuses every large buffer, so that steady-state steps allocate nothing big.
 *
 * Idle workers do not keep the process alive; `close()` ends them.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { ModelOptions } from '../../common/options.ts';
import type { HostArray, NamedArrays } from '../tensors.ts';
import type { LossSettings, MicroBatch, MicroBatchReader } from '../train-step.ts';
import {
  type FeatureShape,
  type GradientReply,
  type InferenceReply,
  parameterLayout,
  type ParameterSlot,
  type WorkerReply,
  type WorkerRequest,
} from './protocol.ts';
import { copyTensorInto } from './host-copy.ts';
import { nativeMatMul } from '../native/matmul-engine.ts';
import { endThread } from './thread-end.ts';

export interface PoolSettings {
  workers: number;
  /** Backend name for the workers (as `--backend`). */
  backend: string;
  options: ModelOptions;
  /** Initial parameters. */
  params: NamedArrays;
}

/** The default worker count: one per core, at most two (the machine this was tuned on), none below two clips. */
export function defaultWorkerCount(clipsPerBatch: number): number {
  const cores = availableParallelism();
  return clipsPerBatch >= 2 ? Math.min(2, cores) : 1;
}

/**
 * The backend pool workers should load to match this process's tfjs backend (and its native matrix engine, if it
 * has one), or null where a pool does not pay: native TensorFlow already spreads its kernels over every core.
 */
export function poolBackend(tfBackend: string): 'onnx' | 'wasm' | 'cpu' | null {
  if (tfBackend === 'wasm') return nativeMatMul() ? 'onnx' : 'wasm';
  return tfBackend === 'cpu' ? tfBackend : null;
}

const WORKER_ENTRY = new URL('./worker-entry.mjs', import.meta.url);

/** One worker thread, one request at a time. */
class PoolWorker {
  /** Reused input slot, grown on demand. */
  input = new SharedArrayBuffer(0);
  private pending: { resolve: (r: WorkerReply) => void; reject: (e: Error) => void } | null = null;
  private failure: Error | null = null;

  constructor(private readonly worker: Worker) {
    worker.unref();
    worker.on('message', (reply: WorkerReply) => this.settle(reply));
    worker.on('error', (err) => this.fail(new Error(`pool worker failed: ${err.message.split('\n')[0]}`)));
    worker.on('exit', (code) => this.fail(new Error(`pool worker exited (code ${code})`)));
  }

  request(message: WorkerRequest, transfer: ArrayBuffer[] = []): Promise<WorkerReply> {
    if (this.failure) return Promise.reject(this.failure);
    if (this.pending) return Promise.reject(new Error('pool worker is busy'));
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      // A request in flight keeps the process alive until its answer arrives.
      this.worker.ref();
      this.worker.postMessage(message, transfer);
    });
  }

  /** Copies features into the input slot (growing it if needed) and returns the slot. */
  stage(x: Float32Array): SharedArrayBuffer {
    if (this.input.byteLength < x.byteLength) this.input = new SharedArrayBuffer(x.byteLength);
    new Float32Array(this.input, 0, x.length).set(x);
    return this.input;
  }

  /** Ends the thread, between two of its native calls (thread-end.ts). */
  async end(): Promise<void> {
    this.failure ??= new Error('the worker pool is closed');
    await endThread(this.worker);
  }

  private settle(reply: WorkerReply): void {
    const pending = this.pending;
    this.pending = null;
    this.worker.unref();
    if (!pending) return;
    if (reply.type === 'error') pending.reject(new Error(reply.message));
    else pending.resolve(reply);
  }

  private fail(err: Error): void {
    this.failure ??= err;
    const pending = this.pending;
    this.pending = null;
    pending?.reject(this.failure);
  }
}

export interface SummedGradients {
  total: number;
  /** Summed gradient per parameter that received one (views into a buffer the next call reuses). */
  sum: Map<string, HostArray>;
}

export class WorkerPool {
  private readonly params: Float32Array;
  private version = 0;
  private readonly idle: PoolWorker[];
  private readonly waiting: ((w: PoolWorker) => void)[] = [];
  private readonly spareOutputs: ArrayBuffer[] = [];
  private readonly accumulator: Float32Array;
  private closed = false;

  private constructor(
    private readonly workers: PoolWorker[],
    private readonly slots: ParameterSlot[],
    shared: SharedArrayBuffer,
  ) {
    this.params = new Float32Array(shared);
    this.idle = [...workers];
    this.accumulator = new Float32Array(this.params.length);
  }

  /** Starts the workers and waits until each has its backend and model. */
  static async start(settings: PoolSettings): Promise<WorkerPool> {
    if (!Number.isInteger(settings.workers) || settings.workers < 1) {
      throw new Error(`worker pool: workers must be a positive integer, got ${settings.workers}`);
    }
    const { slots, total } = parameterLayout(settings.options);
    const shared = new SharedArrayBuffer(total * 4);
    const workers: PoolWorker[] = [];
    for (let i = 0; i < settings.workers; i++) {
      // The entry registers its own TypeScript loader; the parent's flags (--test, -e …) are not for workers.
      const worker = new Worker(WORKER_ENTRY, { execArgv: [] });
      workers.push(new PoolWorker(worker));
    }
    const pool = new WorkerPool(workers, slots, shared);
    try {
      pool.writeParameters(settings.params);
      await Promise.all(
        workers.map((w) =>
          w.request({ type: 'init', backend: settings.backend, options: settings.options, params: shared }),
        ),
      );
    } catch (err) {
      await pool.close();
      throw err;
    }
    return pool;
  }

  get size(): number {
    return this.workers.length;
  }

  /** Makes `params` (host arrays, or a model's variables) the parameters of every later request. */
  async setParameters(params: NamedArrays | ReadonlyMap<string, tf.Tensor>): Promise<void> {
    // Requests in flight read the shared buffer: wait until every worker is idle.
    const all = await Promise.all(this.workers.map(() => this.acquire()));
    try {
      this.writeParameters(params);
      this.version += 1;
    } finally {
      for (const w of all) this.release(w);
    }
  }

  /** Loss and gradients of micro-batches 0 … count−1, spread over the workers and summed in index order. */
  async summedGradients(count: number, read: MicroBatchReader, loss: LossSettings): Promise<SummedGradients> {
    const replies: (GradientReply | undefined)[] = new Array(count);
    let next = 0;
    let total = 0;
    const present = new Set<string>();
    const acc = this.accumulator;
    // Sums every reply that has all its predecessors summed: the order is 0, 1, 2, … whoever finishes first.
    const absorb = (): void => {
      while (next < count && replies[next]) {
        const reply = replies[next] as GradientReply;
        const g = new Float32Array(reply.out);
        if (next === 0) acc.set(g);
        else for (let k = 0; k < acc.length; k++) acc[k] += g[k];
        total += reply.loss;
        for (const name of reply.present) present.add(name);
        this.spareOutputs.push(reply.out);
        replies[next] = undefined;
        next += 1;
      }
    };
    const jobs = Array.from({ length: count }, async (_, i) => {
      const worker = await this.acquire();
      try {
        const batch = await read(i);
        replies[i] = await this.gradientsOn(worker, batch, loss, i === 0 && loss.decayC > 0);
      } finally {
        this.release(worker);
      }
      absorb();
    });
    await settleAll(jobs);
    const sum = new Map<string, HostArray>();
    for (const s of this.slots) {
      if (present.has(s.name))
        sum.set(s.name, { shape: s.shape, data: acc.subarray(s.offset, s.offset + s.size) });
    }
    return { total, sum };
  }

  /** Per-step probabilities (T, B, C) and attention (T, B, L) of a (T, B, L, D) block, on the next idle worker. */
  async infer(x: Float32Array, shape: FeatureShape): Promise<{ probs: Float32Array; alphas: Float32Array }> {
    const worker = await this.acquire();
    try {
      const input = worker.stage(x);
      const reply = (await worker.request({
        type: 'infer',
        paramsVersion: this.version,
        input,
        shape,
      })) as InferenceReply;
      return { probs: reply.probs, alphas: reply.alphas };
    } finally {
      this.release(worker);
    }
  }

  /** Ends every worker; later requests fail. Safe to call twice. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.end()));
  }

  private writeParameters(params: NamedArrays | ReadonlyMap<string, tf.Tensor>): void {
    for (const s of this.slots) {
      const p = params.get(s.name);
      const size = p instanceof tf.Tensor ? p.size : p?.data.length;
      if (!p || size !== s.size) throw new Error(`worker pool: parameter ${s.name} is missing or misshapen`);
      if (p instanceof tf.Tensor) copyTensorInto(this.params, s.offset, p);
      else this.params.set(p.data, s.offset);
    }
  }

  private async gradientsOn(
    worker: PoolWorker,
    batch: MicroBatch,
    loss: LossSettings,
    withDecay: boolean,
  ): Promise<GradientReply> {
    const out = this.spareOutputs.pop() ?? new ArrayBuffer(this.params.length * 4);
    const input = worker.stage(batch.x);
    const reply = await worker.request(
      {
        type: 'gradients',
        paramsVersion: this.version,
        input,
        shape: batch.shape,
        labels: batch.labels,
        dropoutSeed: batch.dropoutSeed,
        loss,
        withDecay,
        out,
      },
      [out],
    );
    return reply as GradientReply;
  }

  private acquire(): Promise<PoolWorker> {
    if (this.closed) return Promise.reject(new Error('the worker pool is closed'));
    const w = this.idle.pop();
    if (w) return Promise.resolve(w);
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private release(w: PoolWorker): void {
    const waiter = this.waiting.shift();
    if (waiter) waiter(w);
    else this.idle.push(w);
  }
}

/** Like Promise.all, but waits for every job before rethrowing the first failure (no job left running). */
async function settleAll(jobs: Promise<void>[]): Promise<void> {
  const results = await Promise.allSettled(jobs);
  const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed) throw failed.reason instanceof Error ? failed.reason : new Error(String(failed.reason));
}
