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

export type Feeds = Record<string, { data: Float32Array; dims: number[] }>;

/** A compiled graph: float32 feeds in, the named float32 outputs back. */
export interface NativeGraph {
  run<K extends string>(feeds: Feeds, outputs: readonly K[]): Record<K, Float32Array>;
  /** Frees the session's native memory now (else when the garbage collector finds it). */
  dispose(): void;
}

/** One session over float32 inputs and outputs. */
class Session implements NativeGraph {
  constructor(
    private readonly session: Binding.InferenceSession,
    private readonly Tensor: TensorConstructor,
  ) {}

  run<K extends string>(feeds: Feeds, outputs: readonly K[]): Record<K, Float32Array> {
    const inputs: Record<string, OrtTensor> = {};
    for (const [name, f] of Object.entries(feeds)) inputs[name] = new this.Tensor('float32', f.data, f.dims);
    const fetches = Object.fromEntries(outputs.map((o) => [o, null]));
    const out = this.session.run(inputs as never, fetches, {}) as unknown as Record<string, OrtTensor>;
    const result = {} as Record<K, Float32Array>;
    for (const o of outputs) {
      const data = out[o]?.data;
      if (!(data instanceof Float32Array)) throw new Error(`onnxruntime returned no float32 ${o}`);
      result[o] = data;
    }
    return result;
  }

  dispose(): void {
    this.session.dispose();
  }
}

export class NativeMatMul {
  private readonly projection: Session;
  private readonly weightGradientSession: Session;
  private readonly productSession: Session;
  private readonly productTransposedSession: Session;
  private readonly energySession: Session;
  private readonly contextSession: Session;
  private readonly contextGradientSession: Session;
  private readonly energyGradientSession: Session;
  private readonly clipMeanSession: Session;

  private constructor(
    readonly threads: number,
    private readonly make: (model: Uint8Array) => Session,
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
    // Y = A·W and Y = G·Wᵀ: the per-step products of the recurrence and their input gradients.
    const product = (name: string, transB: number) =>
      make(
        onnxModel({
          name,
          nodes: [{ op: 'Gemm', inputs: ['A', 'W'], outputs: ['Y'], attributes: { transB } }],
          inputs: [
            { name: 'A', dims: ['M', 'K'] },
            { name: 'W', dims: transB ? ['N', 'K'] : ['K', 'N'] },
          ],
          outputs: [{ name: 'Y', dims: ['M', 'N'] }],
        }),
      );
    this.productSession = product('product', 0);
    this.productTransposedSession = product('product_transposed', 1);
    // One step's context z = Σ_l α_l·x_l (B, 1, D) from α (B, 1, L) and the step's features X (B, L, D), and the
    // gradient to α: dα = Σ_d dz·X (B, L).
    this.contextSession = make(
      onnxModel({
        name: 'context',
        nodes: [{ op: 'MatMul', inputs: ['A', 'X'], outputs: ['Z'] }],
        inputs: [
          { name: 'A', dims: ['B', 1, 'L'] },
          { name: 'X', dims: ['B', 'L', 'D'] },
        ],
        outputs: [{ name: 'Z', dims: ['B', 1, 'D'] }],
      }),
    );
    this.contextGradientSession = make(
      onnxModel(
        {
          name: 'context_gradient',
          nodes: [
            { op: 'Mul', inputs: ['G', 'X'], outputs: ['GX'] },
            { op: 'ReduceSum', inputs: ['GX'], outputs: ['dA'], attributes: { axes: [2], keepdims: 0 } },
          ],
          inputs: [
            { name: 'G', dims: ['B', 1, 'D'] },
            { name: 'X', dims: ['B', 'L', 'D'] },
          ],
          outputs: [{ name: 'dA', dims: ['B', 'L'] }],
        },
        11,
      ),
    );
    // The reference attention energies of one step: H = tanh(P + S), E = H·U + c; P (B, L, D), S (B, 1, D).
    this.energySession = make(
      onnxModel(
        {
          name: 'energies',
          nodes: [
            { op: 'Add', inputs: ['P', 'S'], outputs: ['A'] },
            { op: 'Tanh', inputs: ['A'], outputs: ['H'] },
            { op: 'MatMul', inputs: ['H', 'U'], outputs: ['M'] },
            { op: 'Add', inputs: ['M', 'C'], outputs: ['E'] },
          ],
          inputs: [
            { name: 'P', dims: ['B', 'L', 'D'] },
            { name: 'S', dims: ['B', 1, 'D'] },
            { name: 'U', dims: ['D', 1] },
            { name: 'C', dims: [1] },
          ],
          outputs: [
            { name: 'H', dims: ['B', 'L', 'D'] },
            { name: 'E', dims: ['B', 'L', 1] },
          ],
        },
        11,
      ),
    );
    // Their gradients from dE (B, L, 1): dP = dE·Uᵀ ⊙ (1 − H²), dS = Σ_l dP, dU = Σ_{b,l} H·dE.
    // The mean over steps and locations of X (T, B, L, D): (B, D). Two reductions, each over one run of axes.
    this.clipMeanSession = make(
      onnxModel(
        {
          name: 'clip_mean',
          nodes: [
            { op: 'ReduceSum', inputs: ['X'], outputs: ['S0'], attributes: { axes: [0], keepdims: 0 } },
            { op: 'ReduceSum', inputs: ['S0'], outputs: ['S'], attributes: { axes: [1], keepdims: 0 } },
            { op: 'Div', inputs: ['S', 'Count'], outputs: ['Mean'] },
          ],
          inputs: [
            { name: 'X', dims: ['T', 'B', 'L', 'D'] },
            { name: 'Count', dims: [1] },
          ],
          outputs: [{ name: 'Mean', dims: ['B', 'D'] }],
        },
        11,
      ),
    );
    this.energyGradientSession = make(
      onnxModel(
        {
          name: 'energy_gradients',
          nodes: [
            { op: 'Mul', inputs: ['G', 'Urow'], outputs: ['dH'] },
            { op: 'Mul', inputs: ['H', 'H'], outputs: ['H2'] },
            { op: 'Sub', inputs: ['One', 'H2'], outputs: ['Slope'] },
            { op: 'Mul', inputs: ['dH', 'Slope'], outputs: ['dP'] },
            { op: 'ReduceSum', inputs: ['dP'], outputs: ['dS'], attributes: { axes: [1], keepdims: 0 } },
            { op: 'Mul', inputs: ['H', 'G'], outputs: ['HG'] },
            { op: 'ReduceSum', inputs: ['HG'], outputs: ['dU'], attributes: { axes: [0, 1], keepdims: 0 } },
          ],
          inputs: [
            { name: 'H', dims: ['B', 'L', 'D'] },
            { name: 'G', dims: ['B', 'L', 1] },
            { name: 'Urow', dims: ['D'] },
            { name: 'One', dims: [1] },
          ],
          outputs: [
            { name: 'dP', dims: ['B', 'L', 'D'] },
            { name: 'dS', dims: ['B', 'D'] },
            { name: 'dU', dims: ['D'] },
          ],
        },
        11,
      ),
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
      return new Session(session, Tensor);
    });
  }

  /** A session for a serialised ONNX model (opset ≤ 17, float32 values), with this engine's thread settings. */
  compile(model: Uint8Array): NativeGraph {
    return this.make(model);
  }

  /** The mean over steps and locations of x (T, B, L, D): (B, D). */
  clipMean(x: Float32Array, [t, b, l, d]: [number, number, number, number]): Float32Array {
    const feeds = { X: { data: x, dims: [t, b, l, d] }, Count: { data: Float32Array.of(t * l), dims: [1] } };
    return this.clipMeanSession.run(feeds, ['Mean']).Mean;
  }

  /** X·W + b for X (n, d), W (d, e), b (e): (n, e), row-major. */
  project(x: Float32Array, w: Float32Array, b: Float32Array, n: number, d: number, e: number): Float32Array {
    const feeds = { X: { data: x, dims: [n, d] }, W: { data: w, dims: [d, e] }, B: { data: b, dims: [e] } };
    return this.projection.run(feeds, ['Y']).Y;
  }

  /** Xᵀ·G for X (n, d), G (n, e): (d, e), row-major. */
  weightGradient(x: Float32Array, g: Float32Array, n: number, d: number, e: number): Float32Array {
    return this.weightGradientSession.run({ X: { data: x, dims: [n, d] }, G: { data: g, dims: [n, e] } }, [
      'Y',
    ]).Y;
  }

  /** A·W for A (m, k), W (k, n): (m, n). */
  multiply(a: Float32Array, w: Float32Array, m: number, k: number, n: number): Float32Array {
    return this.productSession.run({ A: { data: a, dims: [m, k] }, W: { data: w, dims: [k, n] } }, ['Y']).Y;
  }

  /** G·Wᵀ for G (m, n), W (k, n): (m, k). */
  multiplyTransposed(g: Float32Array, w: Float32Array, m: number, k: number, n: number): Float32Array {
    return this.productTransposedSession.run({ A: { data: g, dims: [m, n] }, W: { data: w, dims: [k, n] } }, [
      'Y',
    ]).Y;
  }

  /** z = α·X per clip: α (B, L), X (B, L, D) → (B, D). */
  context(alpha: Float32Array, x: Float32Array, [b, l, d]: [number, number, number]): Float32Array {
    return this.contextSession.run({ A: { data: alpha, dims: [b, 1, l] }, X: { data: x, dims: [b, l, d] } }, [
      'Z',
    ]).Z;
  }

  /** The gradient of `context` to α from dz (B, D): (B, L). */
  contextGradient(dz: Float32Array, x: Float32Array, [b, l, d]: [number, number, number]): Float32Array {
    const feeds = { G: { data: dz, dims: [b, 1, d] }, X: { data: x, dims: [b, l, d] } };
    return this.contextGradientSession.run(feeds, ['dA']).dA;
  }

  /**
   * One step's attention energies: hidden H = tanh(P + s) (B, L, D) and E = H·u + c (B, L), for the projected
   * context P (B, L, D), the projected state s (B, D), u (D) and c (1).
   */
  energies(
    p: Float32Array,
    s: Float32Array,
    u: Float32Array,
    c: Float32Array,
    [b, l, d]: [number, number, number],
  ): { hidden: Float32Array; energies: Float32Array } {
    const feeds = {
      P: { data: p, dims: [b, l, d] },
      S: { data: s, dims: [b, 1, d] },
      U: { data: u, dims: [d, 1] },
      C: { data: c, dims: [1] },
    };
    const out = this.energySession.run(feeds, ['H', 'E']);
    return { hidden: out.H, energies: out.E };
  }

  /** Gradients of `energies` from dE (B, L): to P (B, L, D), to s (B, D) and to u (D). */
  energyGradients(
    hidden: Float32Array,
    dE: Float32Array,
    u: Float32Array,
    [b, l, d]: [number, number, number],
  ): { dP: Float32Array; dS: Float32Array; dU: Float32Array } {
    const feeds = {
      H: { data: hidden, dims: [b, l, d] },
      G: { data: dE, dims: [b, l, 1] },
      Urow: { data: u, dims: [d] },
      One: { data: ONE, dims: [1] },
    };
    const out = this.energyGradientSession.run(feeds, ['dP', 'dS', 'dU']);
    return { dP: out.dP, dS: out.dS, dU: out.dU };
  }
}

const ONE = Float32Array.of(1);

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
