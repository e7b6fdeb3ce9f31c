/**
 * The native matrix engine: onnxruntime's CPU library (MLAS, shipped inside the onnxruntime-node package) for the
 * two heavy products of the network, the context projection P = X·W + b for every step at once and its weight
 * gradient Xᵀ·dP. At the UCF-11 shape they are ~90% of a training step's FLOPs, and MLAS runs them several times
 * faster than tfjs-wasm's XNNPACK (128-bit SIMD, one thread in Node).
 *
 * Sessions run through onnxruntime-node's synchronous binding (its public `run` only wraps that call in a Promise
 * on the same thread): the products sit inside tfjs's synchronous forward pass and gradient functions. The
 * package version is pinned for that reason.
 */
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { isMainThread } from 'node:worker_threads';
import type { Binding } from 'onnxruntime-node/dist/binding.js';
import { onnxModel } from './onnx-model.ts';

type OrtTensor = { readonly data: unknown; readonly dims: readonly number[] };
type TensorConstructor = new (type: 'float32', data: Float32Array, dims: readonly number[]) => OrtTensor;

interface OrtModule {
  binding: {
    InferenceSession: Binding.InferenceSessionConstructor;
  };
  initOrt: () => void;
}

const require = createRequire(import.meta.url);

function loadOrt(): { ort: OrtModule; Tensor: TensorConstructor } {
  const ort = require('onnxruntime-node/dist/binding.js') as OrtModule;
  const { Tensor } = require('onnxruntime-node') as { Tensor: TensorConstructor };
  if (typeof ort.initOrt !== 'function' || typeof ort.binding?.InferenceSession !== 'function') {
    throw new Error('onnxruntime-node has no synchronous binding (a version other than the pinned 1.30?)');
  }
  ort.initOrt();
  return { ort, Tensor };
}

/** One single-Gemm session; inputs and the output are float32 matrices. */
class GemmSession {
  constructor(
    private readonly session: Binding.InferenceSession,
    private readonly Tensor: TensorConstructor,
  ) {}

  run(feeds: Record<string, { data: Float32Array; dims: number[] }>): Float32Array {
    const inputs: Record<string, OrtTensor> = {};
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new this.Tensor('float32', f.data, f.dims);
    const out = this.session.run(inputs as never, { Y: null }, {}) as unknown as Record<string, OrtTensor>;
    const y = out.Y?.data;
    if (!(y instanceof Float32Array)) throw new Error('onnxruntime returned no float32 output');
    return y;
  }
}

export class NativeMatMul {
  private readonly projection: GemmSession;
  private readonly weightGradientSession: GemmSession;

  private constructor(
    readonly threads: number,
    make: (model: Uint8Array) => GemmSession,
  ) {
    // Y = X·W + b: X (N, D), W (D, E), b (E).
    this.projection = make(
      onnxModel({
        name: 'projection',
        nodes: [{ op: 'Gemm', inputs: ['X', 'W', 'B'], outputs: ['Y'] }],
        inputs: [
          { name: 'X', dims: ['N', 'D'] },
          { name: 'W', dims: ['D', 'E'] },
          { name: 'B', dims: ['E'] },
        ],
        outputs: [{ name: 'Y', dims: ['N', 'E'] }],
      }),
    );
    // Y = Xᵀ·G: X (N, D), G (N, E).
    this.weightGradientSession = make(
      onnxModel({
        name: 'weight_gradient',
        nodes: [{ op: 'Gemm', inputs: ['X', 'G'], outputs: ['Y'], attributes: { transA: 1 } }],
        inputs: [
          { name: 'X', dims: ['N', 'D'] },
          { name: 'G', dims: ['N', 'E'] },
        ],
        outputs: [{ name: 'Y', dims: ['D', 'E'] }],
      }),
    );
  }

  /** Loads onnxruntime and builds the sessions; throws (one line) where the package or its library is missing. */
  static create(threads: number): NativeMatMul {
    const { ort, Tensor } = loadOrt();
    return new NativeMatMul(threads, (model) => {
      const session = new ort.binding.InferenceSession();
      session.loadModel(model.buffer as ArrayBuffer, model.byteOffset, model.byteLength, {
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        // Idle pool threads must not spin: tfjs runs on this core between products.
        extra: { session: { intra_op: { allow_spinning: '0' } } },
      });
      return new GemmSession(session, Tensor);
    });
  }

  /** X·W + b for X (n, d), W (d, e), b (e): (n, e), row-major. */
  project(x: Float32Array, w: Float32Array, b: Float32Array, n: number, d: number, e: number): Float32Array {
    return this.projection.run({
      X: { data: x, dims: [n, d] },
      W: { data: w, dims: [d, e] },
      B: { data: b, dims: [e] },
    });
  }

  /** Xᵀ·G for X (n, d), G (n, e): (d, e), row-major. */
  weightGradient(x: Float32Array, g: Float32Array, n: number, d: number, e: number): Float32Array {
    return this.weightGradientSession.run({ X: { data: x, dims: [n, d] }, G: { data: g, dims: [n, e] } });
  }
}

let engine: NativeMatMul | null = null;

/**
 * Starts the engine for this thread: every core in the main thread, one thread inside a pool worker (the pool
 * already puts one worker on each core).
 */
export function activateNativeMatMul(threads = isMainThread ? availableParallelism() : 1): NativeMatMul {
  engine ??= NativeMatMul.create(threads);
  return engine;
}

/** The engine, when this thread's backend uses it. */
export function nativeMatMul(): NativeMatMul | null {
  return engine;
}
