/**
 * Kernels for tfjs-backend-wasm that skip needless copies; results are bit-identical to the stock kernels.
 *
 * Slice, Unpack and SplitV copy only the part they return.
 * The stock wasm kernels start with `backend.readSync(x)`, which copies the *whole* input out of the wasm heap into
 * a fresh JS array: unstacking a (30, 16, 49, 1024) feature block copies its 94 MB thirty times, and on a machine
 * where first-touching memory is slow that cost ~60 s per training step at the UCF-11 shape. These versions read the
 * input through a view of the heap instead.
 *
 * Identity shares the input's memory (reference-counted, as the cpu backend and wasm's own Reshape do) instead of
 * copying it. tfjs clones every input a gradient needs, so the stock kernel copied the features and every weight at
 * every step of every forward pass; and since wasm's matMul caches packed weights by data id, the copies also made
 * every backward step re-pack its weights.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

type KernelFunc = tf.KernelConfig['kernelFunc'];

interface SliceRequest {
  x: tf.TensorInfo;
  begin: number[];
  size: number[];
}

/** A contiguous slice through heap views; `null` when the slice is not one contiguous run of the input. */
function contiguousSlice(backend: BackendWasm, { x, begin, size }: SliceRequest): tf.TensorInfo | null {
  if (x.dtype === 'string') return null;
  const [begin_, size_] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
  if (!tf.slice_util.isSliceContinous(x.shape, begin_, size_)) return null;
  const offset = tf.slice_util.computeFlatOffset(begin_, tf.util.computeStrides(x.shape));
  const n = tf.util.sizeFromShape(size_);
  // makeOutput may grow the heap, which detaches earlier views: take the input view after it.
  const out = backend.makeOutput(size_, x.dtype);
  const source = backend.typedArrayFromHeap(x);
  backend.typedArrayFromHeap(out).set(source.subarray(offset, offset + n));
  return out;
}

let installed = false;

/** Replaces the wasm Slice, Unpack, SplitV and Identity kernels (call once the wasm backend is registered). */
export function installWasmCopyFreeKernels(): void {
  if (installed) return;
  const stockSlice = tf.getKernel(tf.Slice, 'wasm');
  const stockUnpack = tf.getKernel(tf.Unpack, 'wasm');
  const stockSplit = tf.getKernel(tf.SplitV, 'wasm');
  const stockIdentity = tf.getKernel(tf.Identity, 'wasm');
  if (!stockSlice || !stockUnpack || !stockSplit || !stockIdentity) {
    throw new Error('the wasm backend lacks a Slice/Unpack/SplitV/Identity kernel');
  }
  installed = true;
  const stockIdentityFunc = stockIdentity.kernelFunc;
  const stockSliceFunc = stockSlice.kernelFunc;
  const stockUnpackFunc = stockUnpack.kernelFunc;
  const stockSplitFunc = stockSplit.kernelFunc;
  const backend = (args: Parameters<KernelFunc>[0]): BackendWasm => args.backend as BackendWasm;

  const slice: KernelFunc = (args) => {
    const { x } = args.inputs as unknown as tf.SliceInputs & { x: tf.TensorInfo };
    const { begin, size } = args.attrs as unknown as { begin: number | number[]; size: number | number[] };
    const request = { x, begin: toArray(begin), size: toArray(size) };
    return contiguousSlice(args.backend as BackendWasm, request) ?? stockSliceFunc(args);
  };

  const unpack: KernelFunc = (args) => {
    const { value } = args.inputs as unknown as { value: tf.TensorInfo };
    let { axis } = args.attrs as unknown as tf.UnpackAttrs;
    if (axis < 0) axis += value.shape.length;
    const backend = args.backend as BackendWasm;
    // Only the leading axis gives contiguous pieces (or any axis preceded by size-1 axes).
    if (value.dtype === 'string' || value.shape.slice(0, axis).some((s) => s !== 1))
      return stockUnpackFunc(args);
    const outShape = value.shape.filter((_, i) => i !== axis);
    const size = [...value.shape];
    size[axis] = 1;
    const outs: tf.TensorInfo[] = [];
    for (let i = 0; i < value.shape[axis]; i++) {
      const begin = value.shape.map((_, k) => (k === axis ? i : 0));
      const piece = contiguousSlice(backend, { x: value, begin, size });
      if (!piece) throw new Error('unpack along a leading axis should be contiguous');
      outs.push({ dataId: piece.dataId, dtype: piece.dtype, shape: outShape });
    }
    return outs;
  };

  const splitV: KernelFunc = (args) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    const $axis = tf.util.parseAxisParam(axis, x.shape)[0];
    if (x.dtype === 'string' || x.shape.slice(0, $axis).some((s) => s !== 1)) return stockSplitFunc(args);
    const sizes = tf.backend_util.prepareSplitSize(x as tf.Tensor, numOrSizeSplits, $axis);
    const begin = x.shape.map(() => 0);
    const outs: tf.TensorInfo[] = [];
    for (const s of sizes) {
      const size = [...x.shape];
      size[$axis] = s;
      const piece = contiguousSlice(backend(args), { x, begin: [...begin], size });
      if (!piece) throw new Error('split along a leading axis should be contiguous');
      outs.push(piece);
      begin[$axis] += s;
    }
    return outs;
  };

  const identity: KernelFunc = (args) => {
    const { x } = args.inputs as unknown as { x: tf.TensorInfo };
    if (x.dtype === 'string') return stockIdentityFunc(args);
    backend(args).incRef(x.dataId);
    return { dataId: x.dataId, shape: [...x.shape], dtype: x.dtype };
  };

  tf.unregisterKernel(tf.Slice, 'wasm');
  tf.registerKernel({ ...stockSlice, kernelFunc: slice });
  tf.unregisterKernel(tf.Unpack, 'wasm');
  tf.registerKernel({ ...stockUnpack, kernelFunc: unpack });
  tf.unregisterKernel(tf.SplitV, 'wasm');
  tf.registerKernel({ ...stockSplit, kernelFunc: splitV });
  tf.unregisterKernel(tf.Identity, 'wasm');
  tf.registerKernel({ ...stockIdentity, kernelFunc: identity });
}

function toArray(v: number | number[]): number[] {
  return typeof v === 'number' ? [v] : v;
}
