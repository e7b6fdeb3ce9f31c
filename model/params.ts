/**
 * The parameter set of the attention LSTM: names, shapes and initialisation exactly as the reference
 * `init_params` / `param_init_lstm_cond` (original-code.md §1.2), in the reference order; or, with
 * `init: 'glorot'`, PyTorch's default initialisation of the same layers.
 */
import seedrandom from 'seedrandom';
import type { ModelOptions } from '../common/options.ts';
import { type HostArray, type NamedArrays, shapesEqual, sizeOf } from './tensors.ts';

type Init = 'norm' | 'ortho' | 'gauss001' | 'zeros' | 'lstmW' | 'lstmU';

interface ParamSpec {
  name: string;
  shape: number[];
  /** The reference's initialisation. */
  init: Init;
  /**
   * n of PyTorch's default U(±1/√n) for this parameter: the fan-in of the nn.Linear it belongs to (weight and
   * bias alike: kaiming-uniform with a = √5 gives 1/√fan_in), or the hidden size for nn.LSTM's weights and bias.
   */
  torchFan: number;
}

/** Name prefix of the LSTM layer k (0-based): the reference names for k = 0, `_l{k+1}` suffixes above. */
export function lstmLayerName(base: 'decoder' | 'ff_state' | 'ff_memory', k: number): string {
  return k === 0 ? base : `${base}_l${k + 1}`;
}

export function parameterSpecs(o: ModelOptions): ParamSpec[] {
  const D = o.ctxDim;
  const d = o.dim;
  const specs: ParamSpec[] = [];
  // Weights are (in, out) for x·W, so an nn.Linear's fan-in is the first dimension of its weight.
  const add = (name: string, shape: number[], init: Init, torchFan: number) =>
    specs.push({ name, shape, init, torchFan });
  for (let k = 1; k < o.nLayersInit; k++) {
    add(`ff_init_${k}_W`, [D, D], 'ortho', D);
    add(`ff_init_${k}_b`, [D], 'zeros', D);
  }
  for (let layer = 0; layer < o.lstmLayers; layer++) {
    add(`${lstmLayerName('ff_state', layer)}_W`, [D, d], 'norm', D);
    add(`${lstmLayerName('ff_state', layer)}_b`, [d], 'zeros', D);
    add(`${lstmLayerName('ff_memory', layer)}_W`, [D, d], 'norm', D);
    add(`${lstmLayerName('ff_memory', layer)}_b`, [d], 'zeros', D);
  }
  add('decoder_W', [D, 4 * d], 'lstmW', d);
  add('decoder_U', [d, 4 * d], 'lstmU', d);
  add('decoder_b', [4 * d], 'zeros', d);
  if (o.attention === 'reference') {
    // b_att is the bias of the projection X·Wc_att, c_tt that of ·U_att.
    add('decoder_Wc_att', [D, D], 'gauss001', D);
    add('decoder_Wd_att', [d, D], 'norm', d);
    add('decoder_b_att', [D], 'zeros', D);
    for (let k = 1; k < o.nLayersAtt; k++) {
      add(`decoder_W_att_${k}`, [D, D], 'ortho', D);
      add(`decoder_b_att_${k}`, [D], 'zeros', D);
    }
    add('decoder_U_att', [D, 1], 'gauss001', D);
    add('decoder_c_tt', [1], 'zeros', D);
  } else {
    // Paper Eq. 4: location logits are a linear map of h_{t-1} alone.
    add('decoder_W_loc', [d, o.locations], 'gauss001', d);
  }
  if (o.selector) {
    add('decoder_W_sel', [d, 1], 'gauss001', d);
    add('decoder_b_sel', [], 'zeros', d);
  }
  for (let layer = 1; layer < o.lstmLayers; layer++) {
    add(`${lstmLayerName('decoder', layer)}_W`, [d, 4 * d], 'lstmW', d);
    add(`${lstmLayerName('decoder', layer)}_U`, [d, 4 * d], 'lstmU', d);
    add(`${lstmLayerName('decoder', layer)}_b`, [4 * d], 'zeros', d);
  }
  add('ff_logit_lstm_W', [d, o.dimOut], 'norm', d);
  add('ff_logit_lstm_b', [o.dimOut], 'zeros', d);
  if (o.ctx2out) {
    add('ff_logit_ctx_W', [D, o.dimOut], 'norm', D);
    add('ff_logit_ctx_b', [o.dimOut], 'zeros', D);
  }
  for (let k = 1; k < o.nLayersOut; k++) {
    add(`ff_logit_h${k}_W`, [o.dimOut, o.dimOut], 'ortho', o.dimOut);
    add(`ff_logit_h${k}_b`, [o.dimOut], 'zeros', o.dimOut);
  }
  add('ff_logit_W', [o.dimOut, o.nActions], 'gauss001', o.dimOut);
  add('ff_logit_b', [o.nActions], 'zeros', o.dimOut);
  return specs;
}

export function countParameters(o: ModelOptions): number {
  return parameterSpecs(o).reduce((n, s) => n + sizeOf(s.shape), 0);
}

/** Checks that `params` holds exactly the parameters the options call for, with the right shapes. */
export function checkParameters(params: NamedArrays, o: ModelOptions): void {
  for (const spec of parameterSpecs(o)) {
    const p = params.get(spec.name);
    if (!p) throw new Error(`parameter ${spec.name} is missing`);
    // The reference stores scalars and (1,) vectors interchangeably.
    const scalarOk = sizeOf(spec.shape) === 1 && p.data.length === 1;
    if (!shapesEqual(p.shape, spec.shape) && !scalarOk) {
      throw new Error(
        `parameter ${spec.name} has shape (${p.shape.join(',')}), expected (${spec.shape.join(',')})`,
      );
    }
    if (p.data.length !== sizeOf(p.shape)) {
      throw new Error(
        `parameter ${spec.name} holds ${p.data.length} values for shape (${p.shape.join(',')})`,
      );
    }
  }
}

/** A seeded stream of N(0,1) draws (alea + Box–Muller, the spare value kept). */
export class Gaussian {
  private readonly rng: () => number;
  private spare: number | undefined;
  constructor(seed: number) {
    this.rng = seedrandom.alea(String(seed));
  }
  next(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    let u = 0;
    while (u === 0) u = this.rng();
    const v = this.rng();
    const r = Math.sqrt(-2 * Math.log(u));
    this.spare = r * Math.sin(2 * Math.PI * v);
    return r * Math.cos(2 * Math.PI * v);
  }
}

function gaussian(rows: number, cols: number, scale: number, g: Gaussian): Float32Array {
  const out = new Float32Array(rows * cols);
  for (let i = 0; i < out.length; i++) out[i] = scale * g.next();
  return out;
}

/** A Haar-random orthogonal n×n matrix: Gram–Schmidt on a Gaussian matrix (the reference takes an SVD factor). */
function orthogonal(n: number, g: Gaussian): Float32Array {
  const q = new Float64Array(n * n);
  for (let i = 0; i < q.length; i++) q[i] = g.next();
  // Orthonormalise columns in place (modified Gram–Schmidt, column j at q[i*n + j]).
  const col = new Float64Array(n);
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) col[i] = q[i * n + j];
    for (let k = 0; k < j; k++) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += q[i * n + k] * col[i];
      for (let i = 0; i < n; i++) col[i] -= dot * q[i * n + k];
    }
    let norm = 0;
    for (let i = 0; i < n; i++) norm += col[i] * col[i];
    norm = Math.sqrt(norm);
    for (let i = 0; i < n; i++) q[i * n + j] = col[i] / norm;
  }
  return Float32Array.from(q);
}

/** `norm_weight`: orthogonal when square, else 0.01·N(0,1). */
function normWeight(nin: number, nout: number, g: Gaussian): Float32Array {
  return nin === nout ? orthogonal(nin, g) : gaussian(nin, nout, 0.01, g);
}

/** Concatenates four (rows × n) blocks side by side into rows × 4n, as the reference's numpy.concatenate(axis=1). */
function fourBlocks(rows: number, n: number, block: () => Float32Array): Float32Array {
  const out = new Float32Array(rows * 4 * n);
  for (let b = 0; b < 4; b++) {
    const m = block();
    for (let r = 0; r < rows; r++) out.set(m.subarray(r * n, (r + 1) * n), r * 4 * n + b * n);
  }
  return out;
}

/** The reference's draw of one parameter (original-code.md §1.2). */
function referenceDraw(spec: ParamSpec, o: ModelOptions, g: Gaussian): Float32Array {
  const { shape, init } = spec;
  const [rows, cols] = [shape[0] ?? 1, shape[1] ?? 1];
  switch (init) {
    case 'zeros':
      return new Float32Array(sizeOf(shape));
    case 'gauss001':
      return gaussian(rows, cols, 0.01, g);
    case 'ortho':
      return orthogonal(rows, g);
    case 'norm':
      return normWeight(rows, cols, g);
    case 'lstmW':
      return fourBlocks(rows, o.dim, () => normWeight(rows, o.dim, g));
    case 'lstmU':
      return fourBlocks(rows, o.dim, () => orthogonal(o.dim, g));
  }
}

/** PyTorch's default draw of one parameter: U(±1/√torchFan), every element independent. */
function torchDraw(spec: ParamSpec, rng: () => number): Float32Array {
  const bound = 1 / Math.sqrt(spec.torchFan);
  const out = new Float32Array(sizeOf(spec.shape));
  for (let i = 0; i < out.length; i++) out[i] = bound * (2 * rng() - 1);
  return out;
}

/** A new model's parameters as `o.init` says, deterministic in `seed`. */
export function initParameters(o: ModelOptions, seed: number): NamedArrays {
  const g = new Gaussian(seed);
  const rng = seedrandom.alea(String(seed));
  const params: NamedArrays = new Map();
  for (const spec of parameterSpecs(o)) {
    const data = o.init === 'glorot' ? torchDraw(spec, rng) : referenceDraw(spec, o, g);
    const entry: HostArray = { shape: [...spec.shape], data };
    params.set(spec.name, entry);
  }
  return params;
}
