/**
 * One optimiser update from a batch given as micro-batches: the loss and gradients of each (in this process, or in a
 * pool of workers), summed in micro-batch order, then one optimiser step. Both paths give the same numbers: the
 * workers run the same `microBatchGradients`, and float32 sums made in JS round as the backend's own adds do.
 */
import * as tf from '@tensorflow/tfjs-core';
import { dataLoss, weightDecay } from './loss.ts';
import { releaseCachedTransposes } from './matmul-gradient.ts';
import type { AttentionModel } from './model.ts';
import type { ModelOptions } from '../common/options.ts';
import type { Optimizer } from './optimizers.ts';
import { tensorFromReusedBuffer } from './parallel/host-copy.ts';
import type { WorkerPool } from './parallel/pool.ts';

/** The features and targets of one forward/backward pass. */
export interface MicroBatch {
  /** Features, (T, B, L, D) row-major. */
  x: Float32Array;
  shape: [number, number, number, number];
  /** Class ids (B) for single-label models, 0/1 flags (B × C) for multi-label ones. */
  labels: Int32Array | Float32Array;
  /** Seed of this pass's dropout masks. */
  dropoutSeed: number;
}

export interface LossSettings {
  decayC: number;
  alphaC: number;
}

/** Micro-batch `i` of the batch; called once per index, in any order when a pool runs the step. */
export type MicroBatchReader = (i: number) => MicroBatch | Promise<MicroBatch>;

export function labelTensor(
  labels: Int32Array | Float32Array,
  batch: number,
  options: ModelOptions,
): tf.Tensor1D | tf.Tensor2D {
  if (options.multilabel) return tf.tensor2d(Float32Array.from(labels), [batch, options.nActions], 'float32');
  return tf.tensor1d(Int32Array.from(labels), 'int32');
}

/**
 * Loss and gradients of one micro-batch, as the reference's objective: weight decay is added once per update, to the
 * first micro-batch. The caller owns the returned tensors.
 */
export function microBatchGradients(
  model: AttentionModel,
  batch: MicroBatch,
  loss: LossSettings,
  withDecay: boolean,
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const variables = [...model.variables.values()];
  const [T, B] = batch.shape;
  const result = tf.tidy(() => {
    const x = tf.tensor4d(batch.x, batch.shape);
    const mask = tf.ones([T, B]) as tf.Tensor2D;
    const labels = labelTensor(batch.labels, B, model.options);
    return tf.variableGrads(() => {
      const outputs = model.run(x, true, mask, batch.dropoutSeed, batch.x);
      let value = dataLoss(
        outputs.probs,
        outputs.alphas,
        { labels, mask },
        model.options.multilabel,
        loss.alphaC,
      );
      if (withDecay) value = tf.add(value, weightDecay(variables, loss.decayC)) as tf.Scalar;
      return value;
    }, variables);
  });
  releaseCachedTransposes();
  return result;
}

/** One update from `count` micro-batches; returns the summed loss (weight decay included). */
export async function trainStep(
  model: AttentionModel,
  optimizer: Optimizer,
  count: number,
  read: MicroBatchReader,
  loss: LossSettings,
  pool?: WorkerPool | null,
): Promise<number> {
  const { total, grads } = pool
    ? await pooledGradients(model, count, read, loss, pool)
    : await localGradients(model, count, read, loss);
  try {
    if (!Number.isFinite(total)) throw new Error(`training diverged: the loss is ${total}`);
    optimizer.apply(model.variables, grads);
  } finally {
    for (const g of grads.values()) g.dispose();
  }
  return total;
}

interface SummedGradients {
  total: number;
  /** By parameter name. */
  grads: Map<string, tf.Tensor>;
}

async function localGradients(
  model: AttentionModel,
  count: number,
  read: MicroBatchReader,
  loss: LossSettings,
): Promise<SummedGradients> {
  const sums = new Map<string, tf.Tensor>();
  let total = 0;
  for (let i = 0; i < count; i++) {
    const { value, grads } = microBatchGradients(model, await read(i), loss, i === 0 && loss.decayC > 0);
    total += (await value.data())[0];
    value.dispose();
    for (const [name, v] of model.variables) {
      const g = grads[v.name];
      if (!g) continue;
      const previous = sums.get(name);
      if (previous) {
        sums.set(name, tf.add(previous, g));
        previous.dispose();
        g.dispose();
      } else {
        sums.set(name, g);
      }
    }
  }
  return { total, grads: sums };
}

async function pooledGradients(
  model: AttentionModel,
  count: number,
  read: MicroBatchReader,
  loss: LossSettings,
  pool: WorkerPool,
): Promise<SummedGradients> {
  await pool.setParameters(model.variables);
  const { total, sum } = await pool.summedGradients(count, read, loss);
  const grads = new Map<string, tf.Tensor>();
  for (const [name, v] of model.variables) {
    const g = sum.get(name);
    if (g) grads.set(name, tensorFromReusedBuffer(g.data, v.shape));
  }
  return { total, grads };
}
