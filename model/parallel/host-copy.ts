/**
 * Tensor ↔ host copies without intermediate arrays. On this kind of VM first-touching fresh memory runs at
 * ~200 MB/s, so the per-step parameter and gradient traffic of the pool goes through reused buffers only.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

/** Copies a float32 tensor's values into `out` at `offset`; on wasm straight from the heap (dataSync copies). */
export function copyTensorInto(out: Float32Array, offset: number, t: tf.Tensor): void {
  if (tf.getBackend() === 'wasm')
    out.set((tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array, offset);
  else out.set(t.dataSync() as Float32Array, offset);
}

/**
 * A tensor holding `values`, which the caller may overwrite later: wasm copies into its heap anyway, while the cpu
 * backend would keep the very array, so it gets a copy.
 */
export function tensorFromReusedBuffer(values: Float32Array, shape: number[]): tf.Tensor {
  return tf.tensor(tf.getBackend() === 'wasm' ? values : values.slice(), shape, 'float32');
}
