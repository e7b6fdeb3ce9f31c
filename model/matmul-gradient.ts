/**
 * A gradient for BatchMatMul that never asks a backend for a transposed matMul.
 *
 * tfjs-backend-wasm hands matMul with transposeA/transposeB to a naive loop: at the UCF-11 shape the weight gradient
 * of X·Wc_att takes ~77 s that way against ~3 s with an explicit transpose and a plain matMul. The gradients stay
 * lazy per input (as tfjs's own), so the gradient of a constant input such as the features X is never computed.
 *
 * A weight used at every step of the recurrence (W, U, Wd_att) needs its transpose for the input gradient at every
 * step of the backward pass. Transposing it anew each time costs a full copy, and wasm's XNNPACK matMul re-packs a
 * right-hand side it has not seen (it caches by data id): ~1.5 s per UCF-11 training step. So a right-hand side that
 * comes back within one backward pass is transposed once and reused; the values are the same, bit for bit.
 */
import * as tf from '@tensorflow/tfjs-core';

/** Swaps the last two axes, materialised so the following matMul takes the plain (fast) path. */
function swapLastTwo(t: tf.Tensor): tf.Tensor {
  const rank = t.rank;
  const perm = [...Array(rank).keys()];
  [perm[rank - 2], perm[rank - 1]] = [perm[rank - 1], perm[rank - 2]];
  return tf.transpose(t, perm);
}

interface CachedTranspose {
  /** The saved input it was made from: the engine disposes it when the backward pass ends. */
  source: tf.Tensor;
  transposed: tf.Tensor | null;
}

/** Right-hand sides seen in the current backward pass, by data id (a variable's clones share it). */
const transposes = new Map<tf.DataId, CachedTranspose>();

/** Frees the transposes of backward passes that have ended. */
function sweep(): void {
  for (const [id, entry] of transposes) {
    if (!entry.source.isDisposed) continue;
    entry.transposed?.dispose();
    transposes.delete(id);
  }
}

/** Frees every cached transpose; call after a backward pass to leave no tensors behind. */
export function releaseCachedTransposes(): void {
  for (const entry of transposes.values()) entry.transposed?.dispose();
  transposes.clear();
}

/** The transpose of a right-hand side: made fresh the first time, cached from the second use on. */
function transposedRightHandSide(b: tf.Tensor): tf.Tensor {
  sweep();
  const entry = transposes.get(b.dataId);
  // Reshapes share data ids: a hit must also match the shape.
  if (entry && !tf.util.arraysEqual(entry.source.shape, b.shape)) return swapLastTwo(b);
  if (!entry) {
    transposes.set(b.dataId, { source: b, transposed: null });
    return swapLastTwo(b);
  }
  // keep(): the per-gradient tidy that runs this must not dispose what later steps reuse.
  entry.transposed ??= tf.keep(swapLastTwo(b));
  return entry.transposed;
}

function plainMatMul(a: tf.Tensor, b: tf.Tensor, transposeA: boolean, transposeB: boolean): tf.Tensor {
  return tf.matMul(transposeA ? swapLastTwo(a) : a, transposeB ? swapLastTwo(b) : b);
}

/** Sums a broadcast gradient back to the batch shape of the input it belongs to. */
function reduceToShape(grad: tf.Tensor, shape: number[]): tf.Tensor {
  if (grad.rank === shape.length && grad.shape.every((s, i) => s === shape[i])) return grad;
  const lead = grad.rank - shape.length;
  const axes: number[] = [];
  for (let i = 0; i < grad.rank - 2; i++) {
    const inputDim = i - lead >= 0 ? shape[i - lead] : 1;
    if (inputDim === 1 && grad.shape[i] !== 1) axes.push(i);
  }
  const summed = axes.length > 0 ? tf.sum(grad, axes, true) : grad;
  return tf.reshape(summed, shape);
}

let installed = false;

export function installTransposeFreeMatMulGradient(): void {
  if (installed) return;
  installed = true;
  const previousWarn = console.warn;
  // tfjs warns when a gradient is overridden; this override is deliberate.
  console.warn = () => {};
  try {
    tf.registerGradient({
      kernelName: tf.BatchMatMul,
      inputsToSave: ['a', 'b'],
      gradFunc: (dy, saved, attrs) => {
        const [a, b] = saved;
        const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
        const dyT = dy as tf.Tensor;
        const gradA = (): tf.Tensor => {
          if (transposeA) return plainMatMul(b, dyT, transposeB, true);
          return transposeB ? tf.matMul(dyT, b) : tf.matMul(dyT, transposedRightHandSide(b));
        };
        const gradB = (): tf.Tensor =>
          transposeB ? plainMatMul(dyT, a, true, transposeA) : plainMatMul(a, dyT, !transposeA, false);
        return {
          a: () => reduceToShape(gradA(), a.shape),
          b: () => reduceToShape(gradB(), b.shape),
        };
      },
    });
  } finally {
    console.warn = previousWarn;
  }
}
