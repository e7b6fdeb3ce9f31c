/**
 * The context projection X·Wc_att + b_att of every step at once: on the native matrix engine when this thread has
 * one (forward and weight gradient in onnxruntime, the bias gradient in tfjs), else as a tfjs matMul. X is a
 * constant of the graph (features), so no gradient flows to it.
 */
import * as tf from '@tensorflow/tfjs-core';
import { nativeMatMul } from './matmul-engine.ts';

export function contextProjection(x: tf.Tensor2D, w: tf.Tensor2D, b: tf.Tensor): tf.Tensor2D {
  const engine = nativeMatMul();
  if (!engine) return tf.add(tf.matMul(x, w), b) as tf.Tensor2D;
  const [n, d] = x.shape;
  const e = w.shape[1];
  // One host copy of X serves the forward product and the weight gradient.
  const host = x.dataSync() as Float32Array;
  const project = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [wt, bt] = args as tf.Tensor[];
    const y = engine.project(host, wt.dataSync() as Float32Array, bt.dataSync() as Float32Array, n, d, e);
    return {
      value: tf.tensor2d(y, [n, e]),
      gradFunc: (dy: tf.Tensor) => [
        tf.tensor2d(engine.weightGradient(host, dy.dataSync() as Float32Array, n, d, e), [d, e]),
        tf.reshape(tf.sum(dy, 0), bt.shape),
      ],
    };
  });
  return project(w, b) as tf.Tensor2D;
}
