/**
 * The training objective exactly as the reference codes it (original-code.md §1.7): sums, not means.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Added inside every log, as the reference does. */
const LOG_EPSILON = 1e-8;

export interface LossTargets {
  /** Single-label: class ids (B,) int32. Multi-label: 0/1 flags (B, C) float32. */
  labels: tf.Tensor1D | tf.Tensor2D;
  /** 1 for real samples, (T, B). */
  mask: tf.Tensor2D;
}

/**
 * Σ_t Σ_b mask·NLL (softmax) or Σ_t Σ_b mask·Σ_c BCE (sigmoid), plus
 * alpha_c · mean_l Σ_b (1 − Σ_t α)² — which, as in the reference, ignores the mask.
 */
export function dataLoss(
  probs: tf.Tensor3D,
  alphas: tf.Tensor3D,
  targets: LossTargets,
  multilabel: boolean,
  alphaC: number,
): tf.Scalar {
  const nClasses = probs.shape[2];
  let perStep: tf.Tensor; // (T, B)
  if (multilabel) {
    const y = targets.labels as tf.Tensor2D; // broadcasts over T
    const pos = tf.mul(y, tf.log(tf.add(probs, LOG_EPSILON)));
    const neg = tf.mul(tf.sub(1, y), tf.log(tf.add(tf.sub(1, probs), LOG_EPSILON)));
    perStep = tf.neg(tf.sum(tf.add(pos, neg), 2));
  } else {
    const oneHot = tf.oneHot(targets.labels as tf.Tensor1D, nClasses);
    const pTrue = tf.sum(tf.mul(probs, oneHot), 2);
    perStep = tf.neg(tf.log(tf.add(pTrue, LOG_EPSILON)));
  }
  let loss = tf.sum(tf.mul(perStep, targets.mask)) as tf.Scalar;
  if (alphaC > 0) {
    const coverage = tf.sub(1, tf.sum(alphas, 0)); // (B, L)
    loss = tf.add(loss, tf.mul(alphaC, tf.mean(tf.sum(tf.square(coverage), 0)))) as tf.Scalar;
  }
  return loss;
}

/** decay_c · Σ θ² over every parameter, biases included. */
export function weightDecay(params: Iterable<tf.Tensor>, decayC: number): tf.Scalar {
  let total = tf.scalar(0);
  for (const p of params) total = tf.add(total, tf.sum(tf.square(p))) as tf.Scalar;
  return tf.mul(decayC, total) as tf.Scalar;
}
