/**
 * A weight multiplied at every step of the recurrence (h·Wd_att, h·U, z·W): on the native engine, each step's small
 * product and its input gradient run in onnxruntime, and the weight gradient Σ_t A_tᵀ·dY_t is one product over all
 * steps after the backward pass. Same pattern as the fused attention: a (T) placeholder carries the weight's place in
 * the graph; each step's gradient stores its rows of A and dY, and the placeholder's gradient (computed by tfjs after
 * every step's) multiplies them. Without an engine it is a plain tfjs matMul.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { NativeMatMul } from './matmul-engine.ts';

export interface StepWeight {
  /** a (rows, k) · W (k, n) at step t. */
  times(t: number, a: tf.Tensor2D): tf.Tensor2D;
}

type GradArgs = (tf.Tensor | tf.GradSaveFunc)[];

export function stepWeight(
  engine: NativeMatMul | null,
  w: tf.Tensor2D,
  steps: number,
  rows: number,
): StepWeight {
  if (!engine) return { times: (_t, a) => tf.matMul(a, w) };
  const [k, n] = w.shape;
  const weight = w.dataSync() as Float32Array;
  const inputs = new Float32Array(steps * rows * k);
  let outputGrads: Float32Array | null = null;
  const placeholder = tf.customGrad((...args: GradArgs) => {
    void args;
    return {
      value: tf.zeros([steps]),
      gradFunc: () => {
        const dY = outputGrads ?? new Float32Array(steps * rows * n);
        outputGrads = null;
        return tf.tensor2d(engine.weightGradient(inputs, dY, steps * rows, k, n), [k, n]);
      },
    };
  })(w);
  return {
    times(t, a) {
      const product = tf.customGrad((...args: GradArgs) => {
        const x = (args[1] as tf.Tensor).dataSync() as Float32Array;
        inputs.set(x, t * rows * k);
        return {
          value: tf.tensor2d(engine.multiply(x, weight, rows, k, n), [rows, n]),
          gradFunc: (dy: tf.Tensor) => {
            const g = dy.dataSync() as Float32Array;
            outputGrads ??= new Float32Array(steps * rows * n);
            outputGrads.set(g, t * rows * n);
            return [tf.zeros([1]), tf.tensor2d(engine.multiplyTransposed(g, weight, rows, k, n), [rows, k])];
          },
        };
      });
      return product(tf.slice(placeholder, [t], [1]), a) as tf.Tensor2D;
    },
  };
}
