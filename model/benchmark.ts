/**
 * Throughput of the real training and inference code paths on synthetic ReLU features held in memory: a full
 * training step as `train` runs it (forward, loss, gradients, summed micro-batches, optimiser update) and an
 * inference forward pass with its read-back. Figures are medians over timed iterations after a warm-up.
 * Evaluation (`evaluateSplit` over a split on disk) is timed in this thread and on the worker pool.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { openSplit } from './data/split.ts';
import { writeFeatureDataset } from './data/writer.ts';
import { evaluateSplit } from './evaluate.ts';
import { AttentionModel } from './model.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../common/options.ts';
import { Optimizer } from './optimizers.ts';
import type { FeatureShape } from './parallel/protocol.ts';
import { WorkerPool } from './parallel/pool.ts';
import { type MicroBatch, trainStep } from './train-step.ts';

export type BenchShapeName = 'ucf11' | 'small';
export const BENCH_SHAPE_NAMES: readonly BenchShapeName[] = ['ucf11', 'small'];

export interface BenchShape {
  steps: number;
  locations: number;
  ctx: number;
  dim: number;
  dimOut: number;
  classes: number;
}

export const BENCH_SHAPES: Record<BenchShapeName, BenchShape> = {
  // UCF-11 as the reference trains it: GoogLeNet 7×7×1024 features, 30-frame clips.
  ucf11: { steps: 30, locations: 49, ctx: 1024, dim: 512, dimOut: 512, classes: 11 },
  // A quick check that the machinery runs (CI, smoke tests).
  small: { steps: 8, locations: 16, ctx: 64, dim: 32, dimOut: 32, classes: 5 },
};

export interface BenchSettings {
  shape: BenchShape;
  batch: number;
  /** Timed iterations (after one warm-up). */
  iters: number;
  /** 1: everything in this thread; more: a worker pool, the batch split into that many micro-batches. */
  workers: number;
  /** Backend name for pool workers (the chosen backend of this process). */
  backend: string;
}

export interface BenchFigure {
  name: 'train' | 'infer';
  clipsPerS: number;
  msPerBatch: number;
  /** Every timed iteration, ms. */
  timesMs: number[];
  /**
   * CPU time of the whole process (worker threads included) per batch, median, ms: against msPerBatch it shows how
   * many cores the step kept busy — and, where other work shares the machine, what an idle machine would give.
   */
  cpuMsPerBatch: number;
}

export function benchModelOptions(shape: BenchShape): ModelOptions {
  return {
    ...DEFAULT_MODEL_OPTIONS,
    ctxDim: shape.ctx,
    locations: shape.locations,
    dim: shape.dim,
    dimOut: shape.dimOut,
    nActions: shape.classes,
  };
}

/** ReLU of standard normal values, like CNN features after their last ReLU; seeded. */
function reluFeatures(n: number, seed: string): Float32Array {
  const rng = seedrandom.alea(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i += 2) {
    const r = Math.sqrt(-2 * Math.log(1 - rng()));
    const a = 2 * Math.PI * rng();
    out[i] = Math.max(0, r * Math.cos(a));
    if (i + 1 < n) out[i + 1] = Math.max(0, r * Math.sin(a));
  }
  return out;
}

/** The batch as `parts` micro-batches of (nearly) equal size. */
function syntheticBatch(shape: BenchShape, batch: number, parts: number): MicroBatch[] {
  const out: MicroBatch[] = [];
  const per = Math.ceil(batch / parts);
  for (let first = 0; first < batch; first += per) {
    const B = Math.min(per, batch - first);
    const dims: FeatureShape = [shape.steps, B, shape.locations, shape.ctx];
    out.push({
      x: reluFeatures(
        dims.reduce((a, b) => a * b, 1),
        `bench/${first}`,
      ),
      shape: dims,
      labels: Int32Array.from({ length: B }, (_, i) => (first + i) % shape.classes),
      dropoutSeed: first + 1,
    });
  }
  return out;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

interface Timings {
  wallMs: number[];
  cpuMs: number[];
}

async function timed(iters: number, run: () => Promise<void>): Promise<Timings> {
  await run(); // warm-up: heap growth, kernel set-up, packed weights
  const out: Timings = { wallMs: [], cpuMs: [] };
  for (let i = 0; i < iters; i++) {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    await run();
    out.wallMs.push(performance.now() - t0);
    const cpu = process.cpuUsage(cpu0);
    out.cpuMs.push((cpu.user + cpu.system) / 1000);
  }
  return out;
}

function figure(name: BenchFigure['name'], batch: number, t: Timings): BenchFigure {
  const ms = median(t.wallMs);
  return {
    name,
    clipsPerS: batch / (ms / 1000),
    msPerBatch: ms,
    timesMs: t.wallMs,
    cpuMsPerBatch: median(t.cpuMs),
  };
}

/**
 * Times training and inference at the given shape. The pool, when used, is started before and closed after the
 * timing, and both figures use it.
 */
export async function runBenchmark(
  settings: BenchSettings,
  onFigure?: (f: BenchFigure) => void,
): Promise<BenchFigure[]> {
  const { shape, batch, iters } = settings;
  const workers = Math.max(1, Math.min(settings.workers, batch));
  const options = benchModelOptions(shape);
  const model = AttentionModel.initialise(options, 1234);
  const optimizer = new Optimizer('adam-reference', 1e-4);
  const parts = syntheticBatch(shape, batch, workers);
  const pool =
    workers > 1
      ? await WorkerPool.start({
          workers,
          backend: settings.backend,
          options,
          params: await model.parameters(),
        })
      : null;
  const figures: BenchFigure[] = [];
  try {
    const loss = { decayC: 1e-5, alphaC: 0 };
    const trainTimes = await timed(iters, async () => {
      await trainStep(model, optimizer, parts.length, (i) => parts[i], loss, pool);
    });
    figures.push(figure('train', batch, trainTimes));
    onFigure?.(figures[0]);

    if (pool) await pool.setParameters(model.variables);
    const inferTimes = await timed(iters, async () => {
      if (pool) {
        await Promise.all(parts.map((p) => pool.infer(p.x, p.shape)));
        return;
      }
      for (const p of parts) {
        const [probs, alphas] = tf.tidy(() => {
          const out = model.run(tf.tensor4d(p.x, p.shape), false);
          return [out.probs, out.alphas];
        });
        await Promise.all([probs.data(), alphas.data()]);
        tf.dispose([probs, alphas]);
      }
    });
    figures.push(figure('infer', batch, inferTimes));
    onFigure?.(figures[1]);
  } finally {
    await pool?.close();
    optimizer.dispose();
    model.dispose();
  }
  return figures;
}

/**
 * Floating-point operations per clip of one training step and of one inference pass at this shape, counting the
 * matrix products (2 per multiply-add) and ignoring the element-wise work. Training is forward + backward: every
 * product's two gradients, except the projection X·Wc_att, whose input X needs none.
 */
export function flopsPerClip(shape: BenchShape): { train: number; infer: number } {
  const { steps: T, locations: L, ctx: D, dim, dimOut, classes: C } = shape;
  const projection = T * 2 * L * D * D;
  const perStep =
    2 * dim * D + // h·Wd_att
    2 * L * D + // the attention energies (·U_att)
    2 * L * D + // the context z = α·x
    2 * D * 4 * dim + // z·W
    2 * dim * 4 * dim + // h·U
    2 * dim * dimOut + // the deep output
    2 * dimOut * C;
  const init = 2 * 2 * D * dim; // h0, c0 from the clip mean
  const rest = T * perStep + init;
  return { train: 2 * projection + 3 * rest, infer: projection + rest };
}

export interface EvaluationFigure {
  /** Worker threads (1: this thread). */
  workers: number;
  clips: number;
  clipsPerS: number;
  seconds: number;
}

/**
 * Times `evaluateSplit` (clip reading, the forward pass, per-clip results) over a feature split written to a
 * temporary directory at this shape: in this thread, then on a pool of `workers`. Both runs see the same clips.
 */
export async function runEvaluationBenchmark(
  settings: Pick<BenchSettings, 'shape' | 'batch' | 'workers' | 'backend'>,
): Promise<EvaluationFigure[]> {
  const { shape, batch } = settings;
  const { steps: T, locations: L, ctx: D } = shape;
  // Two videos of T + batch − 1 frames: at stride 1, `batch` clips each.
  const frames = T + batch - 1;
  const dir = await mkdtemp(join(tmpdir(), 'glimpse-bench-eval-'));
  const model = AttentionModel.initialise(benchModelOptions(shape), 1234);
  try {
    const videos = [0, 1].map((v) => ({
      file: `video_${v}.avi`,
      label: v % shape.classes,
      frames: reluFeatures(frames * L * D, `bench/eval/${v}`),
    }));
    await writeFeatureDataset(dir, 'test', videos, L, D);
    const figures: EvaluationFigure[] = [];
    for (const workers of [...new Set([1, settings.workers])]) {
      const split = await openSplit(dir, 'test', { locations: L, ctxDim: D, nClasses: shape.classes });
      try {
        const evaluation = { maxlen: T, stride: 1, lastN: T, batchSize: batch, keepSteps: false, workers };
        // A warm-up on the first video's clips: heap growth, kernel set-up (and the pool start, not timed).
        const pool =
          workers > 1
            ? await WorkerPool.start({
                workers,
                backend: settings.backend,
                options: model.options,
                params: await model.parameters(),
              })
            : null;
        try {
          await evaluateSplit(model, split, { ...evaluation, pool, videoIndices: [0] });
          const t0 = performance.now();
          const result = await evaluateSplit(model, split, { ...evaluation, pool });
          const seconds = (performance.now() - t0) / 1000;
          const clips = result.videos.reduce((n, v) => n + v.clips.length, 0);
          figures.push({ workers, clips, clipsPerS: clips / seconds, seconds });
        } finally {
          await pool?.close();
        }
      } finally {
        split.close();
      }
    }
    return figures;
  } finally {
    model.dispose();
    await rm(dir, { recursive: true, force: true });
  }
}
