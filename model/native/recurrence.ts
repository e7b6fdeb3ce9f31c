/**
 * The whole reference recurrence on the native engine, as one tfjs node: one LSTM layer with the reference attention
 * (one attention layer), the selector and the temperature as options, the mask's carry-over of padded columns.
 *
 * Per step, one onnxruntime session runs everything a step does — its context projection X_t·Wc_att + b_att, h·Wd_att,
 * tanh, the energies, softmax, the context α·X, the selector, the gates and the cell — and in the backward pass one
 * session runs that step's gradient, written out below (the same equations tfjs's own gradients give). The weights'
 * gradients, Wc_att's included, are one product over all steps after the loop. tfjs sees
 * only the node's inputs (h0, c0 and the recurrence's parameters) and its output (every step's h, z and α), instead
 * of some forty kernels per step and their gradients on its tape.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelOptions } from '../../common/options.ts';
import type { NativeGraph, NativeMatMul } from './matmul-engine.ts';
import { onnxModel, type OnnxNode, type OnnxValue } from './onnx-model.ts';

/** Whether the fused recurrence covers these options (else network.ts runs the step-by-step path). */
export function fusesRecurrence(options: ModelOptions): boolean {
  return options.attention === 'reference' && options.nLayersAtt === 1 && options.lstmLayers === 1;
}

export interface RecurrenceOutput {
  /** Every step's hidden state, (T·B, dim), step-major. */
  h: tf.Tensor2D;
  /** Every step's context (after the selector), (T·B, D). */
  z: tf.Tensor2D;
  /** Every step's attention, (T, B, L). */
  alphas: tf.Tensor3D;
}

type Param = (name: string) => tf.Tensor;

function n(op: string, inputs: string[], outputs: string[], attributes?: OnnxNode['attributes']): OnnxNode {
  return { op, inputs, outputs, attributes };
}

/** x·y as a node list: Mul nodes named by their output. */
function mul(out: string, a: string, b: string): OnnxNode {
  return n('Mul', [a, b], [out]);
}

const v = (name: string, dims: (number | string)[]): OnnxValue => ({ name, dims });

/**
 * The weights multiplied at every step (Wc_att, U, W, Wd_att and, with the selector, W_sel), built into the step graphs:
 * onnxruntime then packs them once per graph instead of at every run, which makes the small per-step products about
 * twice as fast; a graph costs ~30–50 ms to build at the UCF-11 shape against ~60 ms saved per pass.
 */
type StepWeights = { name: string; dims: number[]; data: Float32Array }[];

/** Fed at every run: the temperature and the constant 1. */
const CONSTANTS = [v('Temp', [1]), v('One', [1])];

/** One step forward, with the step weights built in. */
function forwardModel(dim: number, selector: boolean, weights: StepWeights): Uint8Array {
  const [B, L, D, d, G] = ['B', 'L', 'D', dim, 4 * dim];

  // Forward: S = h·Wd, A = tanh(P + S), E = (A·u + c)·temperature, α = softmax(E), z = gate·(α·X),
  // gates = h·U + z·W + b, then the cell and the mask's carry-over (m·new + (1 − m)·previous).
  const forward: OnnxNode[] = [
    n('MatMul', ['H', 'Wd'], ['S']),
    n('Unsqueeze', ['S'], ['S3'], { axes: [1] }),
    // This step's context projection, made here so that it stays in cache for the tanh.
    n('MatMul', ['X', 'Wc'], ['XW']),
    n('Add', ['XW', 'Batt'], ['P']),
    n('Add', ['P', 'S3'], ['PS']),
    n('Tanh', ['PS'], ['A']),
    n('MatMul', ['A', 'Uatt'], ['E3']),
    n('Squeeze', ['E3'], ['E2'], { axes: [2] }),
    n('Add', ['E2', 'Ctt'], ['E1']),
    mul('E', 'E1', 'Temp'),
    n('Softmax', ['E'], ['Alpha'], { axis: 1 }),
    n('Unsqueeze', ['Alpha'], ['Alpha3'], { axes: [1] }),
    n('MatMul', ['Alpha3', 'X'], ['Zr3']),
    n('Squeeze', ['Zr3'], ['Zr'], { axes: [1] }),
    ...(selector
      ? [
          n('MatMul', ['H', 'Wsel'], ['SelM']),
          n('Add', ['SelM', 'Bsel'], ['SelP']),
          n('Sigmoid', ['SelP'], ['Gate']),
          mul('Z', 'Gate', 'Zr'),
        ]
      : [n('Identity', ['Zr'], ['Z'])]),
    n('MatMul', ['H', 'U'], ['HU']),
    n('MatMul', ['Z', 'W'], ['ZW']),
    n('Add', ['HU', 'ZW'], ['HZ']),
    n('Add', ['HZ', 'Bias'], ['Pre']),
    n('Split', ['Pre'], ['PI', 'PF', 'PO', 'PG'], { axis: 1, split: [d, d, d, d] }),
    n('Sigmoid', ['PI'], ['I']),
    n('Sigmoid', ['PF'], ['F']),
    n('Sigmoid', ['PO'], ['O']),
    n('Tanh', ['PG'], ['Gg']),
    mul('FC', 'F', 'C'),
    mul('IG', 'I', 'Gg'),
    n('Add', ['FC', 'IG'], ['Cn']),
    n('Sub', ['One', 'M'], ['Keep']),
    mul('MC', 'M', 'Cn'),
    mul('KC', 'Keep', 'C'),
    n('Add', ['MC', 'KC'], ['Cout']),
    n('Tanh', ['Cn'], ['TC']),
    mul('Hn', 'O', 'TC'),
    mul('MH', 'M', 'Hn'),
    mul('KH', 'Keep', 'H'),
    n('Add', ['MH', 'KH'], ['Hout']),
    n('Concat', ['I', 'F', 'O', 'Gg'], ['Gates'], { axis: 1 }),
  ];
  return onnxModel(
    {
      name: 'recurrence_step',
      nodes: forward,
      initializers: weights,
      inputs: [
        v('X', [B, L, D]),
        v('Batt', [D]),
        v('H', [B, d]),
        v('C', [B, d]),
        v('M', [B, 1]),
        v('Uatt', [D, 1]),
        v('Ctt', [1]),
        v('Bias', [G]),
        ...CONSTANTS,
        ...(selector ? [v('Bsel', [1])] : []),
      ],
      outputs: [
        v('Hout', [B, d]),
        v('Cout', [B, d]),
        v('Alpha', [B, L]),
        v('Z', [B, D]),
        v('Zr', [B, D]),
        v('A', [B, L, D]),
        v('Gates', [B, G]),
        ...(selector ? [v('Gate', [B, 1])] : []),
      ],
    },
    11,
  );
}

/** One step's gradient, with the step weights built in. */
function backwardModel(dim: number, selector: boolean, weights: StepWeights): Uint8Array {
  const [B, L, D, d, G] = ['B', 'L', 'D', dim, 4 * dim];
  // Backward from dH (into h_t), dC (into c_t), dAlphaExt and dZExt (from the layers above): the cell and gates,
  // z·W and h·U, the selector, α·X, the softmax, the energies and tanh, h·Wd.
  const backward: OnnxNode[] = [
    n('Split', ['Gates'], ['I', 'F', 'O', 'Gg'], { axis: 1, split: [d, d, d, d] }),
    n('Sub', ['One', 'M'], ['Keep']),
    mul('dHn', 'M', 'dH'),
    mul('dHc', 'Keep', 'dH'),
    mul('FC', 'F', 'C'),
    mul('IG', 'I', 'Gg'),
    n('Add', ['FC', 'IG'], ['Cn']),
    n('Tanh', ['Cn'], ['TC']),
    mul('dOa', 'dHn', 'TC'),
    mul('TC2', 'TC', 'TC'),
    n('Sub', ['One', 'TC2'], ['SlopeC']),
    mul('dHnO', 'dHn', 'O'),
    mul('dCh', 'dHnO', 'SlopeC'),
    mul('MdC', 'M', 'dC'),
    n('Add', ['MdC', 'dCh'], ['dCn']),
    mul('dCf', 'dCn', 'F'),
    mul('KdC', 'Keep', 'dC'),
    n('Add', ['dCf', 'KdC'], ['dCprev']),
    mul('dIa', 'dCn', 'Gg'),
    mul('dGa', 'dCn', 'I'),
    mul('dFa', 'dCn', 'C'),
    ...(['I', 'F', 'O'] as const).flatMap((g) => [
      n('Sub', ['One', g], [`${g}c`]),
      mul(`${g}s`, g, `${g}c`),
      mul(`d${g}`, `d${g}a`, `${g}s`),
    ]),
    mul('GG', 'Gg', 'Gg'),
    n('Sub', ['One', 'GG'], ['Gs']),
    mul('dG', 'dGa', 'Gs'),
    n('Concat', ['dI', 'dF', 'dO', 'dG'], ['dPre'], { axis: 1 }),
    n('Gemm', ['dPre', 'W'], ['dZw'], { transB: 1 }),
    n('Add', ['dZw', 'dZExt'], ['dZ']),
    n('Gemm', ['dPre', 'U'], ['dHu'], { transB: 1 }),
    n('Add', ['dHu', 'dHc'], ['dH1']),
    ...(selector
      ? [
          mul('ZZ', 'dZ', 'Zr'),
          n('ReduceSum', ['ZZ'], ['dGate'], { axes: [1], keepdims: 1 }),
          mul('dZr', 'Gate', 'dZ'),
          n('Sub', ['One', 'Gate'], ['GateC']),
          mul('GateS', 'Gate', 'GateC'),
          mul('dSel', 'dGate', 'GateS'),
          n('Gemm', ['dSel', 'Wsel'], ['dHs'], { transB: 1 }),
          n('Add', ['dH1', 'dHs'], ['dH2']),
        ]
      : [n('Identity', ['dZ'], ['dZr']), n('Identity', ['dH1'], ['dH2'])]),
    n('Unsqueeze', ['dZr'], ['dZr3'], { axes: [2] }),
    n('MatMul', ['X', 'dZr3'], ['dAl3']),
    n('Squeeze', ['dAl3'], ['dAl'], { axes: [2] }),
    n('Add', ['dAl', 'dAlphaExt'], ['dAlpha']),
    mul('AD', 'Alpha', 'dAlpha'),
    n('ReduceSum', ['AD'], ['SumAD'], { axes: [1], keepdims: 1 }),
    n('Sub', ['dAlpha', 'SumAD'], ['Diff']),
    mul('dE1', 'Alpha', 'Diff'),
    mul('dE', 'dE1', 'Temp'),
    n('Unsqueeze', ['dE'], ['dE3'], { axes: [2] }),
    mul('dAtt', 'dE3', 'Urow'),
    mul('AA', 'A', 'A'),
    n('Sub', ['One', 'AA'], ['SlopeA']),
    mul('dP', 'dAtt', 'SlopeA'),
    n('ReduceSum', ['dP'], ['dS'], { axes: [1], keepdims: 0 }),
    n('Gemm', ['dS', 'Wd'], ['dHd'], { transB: 1 }),
    n('Add', ['dH2', 'dHd'], ['dHprev']),
    mul('AE', 'A', 'dE3'),
    n('ReduceSum', ['AE'], ['dUatt'], { axes: [0, 1], keepdims: 0 }),
  ];
  return onnxModel(
    {
      name: 'recurrence_step_gradient',
      nodes: backward,
      initializers: weights.filter((w) => w.name !== 'Wc'), // the projection's gradient is made after the loop
      inputs: [
        v('dH', [B, d]),
        v('dC', [B, d]),
        v('dAlphaExt', [B, L]),
        v('dZExt', [B, D]),
        v('H', [B, d]),
        v('C', [B, d]),
        v('M', [B, 1]),
        v('Gates', [B, G]),
        v('A', [B, L, D]),
        v('Alpha', [B, L]),
        v('X', [B, L, D]),
        v('Zr', [B, D]),
        v('Urow', [D]),
        ...CONSTANTS,
        ...(selector ? [v('Gate', [B, 1])] : []),
      ],
      outputs: [
        v('dHprev', [B, d]),
        v('dCprev', [B, d]),
        v('dP', [B, L, D]),
        v('dS', [B, D]),
        v('dPre', [B, G]),
        v('dUatt', [D]),
        v('dE', [B, L]),
        ...(selector ? [v('dSel', [B, 1])] : []),
      ],
    },
    11,
  );
}

/**
 * The step graphs for one set of weights: one set per engine, freed when the weights change (a training step, a new
 * model); evaluation and inference reuse theirs for every batch.
 */
interface StepGraphs {
  ids: tf.DataId[];
  forward: NativeGraph;
  backward: NativeGraph | null;
  disposed: boolean;
}

const current = new WeakMap<NativeMatMul, StepGraphs>();

function stepGraphs(
  engine: NativeMatMul,
  dim: number,
  selector: boolean,
  weights: tf.Tensor[],
  values: StepWeights,
): StepGraphs {
  const ids = weights.map((w) => w.dataId);
  const entry = current.get(engine);
  if (entry && entry.ids.length === ids.length && entry.ids.every((id, i) => id === ids[i])) return entry;
  if (entry) {
    entry.forward.dispose();
    entry.backward?.dispose();
    entry.disposed = true;
  }
  const made = {
    ids,
    forward: engine.compile(forwardModel(dim, selector, values)),
    backward: null,
    disposed: false,
  };
  current.set(engine, made);
  return made;
}

function host(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

/** Column sums of a (rows, cols) row-major matrix. */
function columnSums(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = m.subarray(r * cols, (r + 1) * cols);
    for (let c = 0; c < cols; c++) out[c] += row[c];
  }
  return out;
}

function sum(values: Float32Array): number {
  let s = 0;
  for (const v of values) s += v;
  return s;
}

/** What a step's backward pass needs from its forward pass. */
interface SavedStep {
  hPrev: Float32Array;
  cPrev: Float32Array;
  gates: Float32Array;
  a: Float32Array;
  alpha: Float32Array;
  zr: Float32Array;
  gate: Float32Array | null;
}

/**
 * The recurrence over x (T, B, L, D), whose values are `features` on the host, from the initial state (h0, c0);
 * `mask` (T·B) is 1 for real samples (all ones when null).
 */
export function fusedRecurrence(
  engine: NativeMatMul,
  param: Param,
  options: ModelOptions,
  x: tf.Tensor4D,
  features: Float32Array,
  initial: { h: tf.Tensor2D; c: tf.Tensor2D },
  mask: Float32Array | null,
): RecurrenceOutput {
  const [T, B, L, D] = x.shape;
  const d = options.dim;
  const G = 4 * d;
  const { selector } = options;
  const step = B * L * D;
  const ones = new Float32Array(B).fill(1);
  const maskAt = (t: number): Float32Array => (mask ? mask.subarray(t * B, (t + 1) * B) : ones);
  const names = [
    'decoder_Wc_att',
    'decoder_b_att',
    'decoder_Wd_att',
    'decoder_U_att',
    'decoder_c_tt',
    'decoder_U',
    'decoder_W',
    'decoder_b',
    ...(selector ? ['decoder_W_sel', 'decoder_b_sel'] : []),
  ];
  const inputs = [initial.h, initial.c, ...names.map(param)];
  // The weights built into the step graphs, by graph name; their tensors also say when the graphs must be rebuilt.
  const built: [string, string][] = [
    ['Wc', 'decoder_Wc_att'],
    ['Wd', 'decoder_Wd_att'],
    ['U', 'decoder_U'],
    ['W', 'decoder_W'],
    ...(selector ? ([['Wsel', 'decoder_W_sel']] as [string, string][]) : []),
  ];
  const size = T * B * (d + D + L);

  const node = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const values = (args.slice(0, inputs.length) as tf.Tensor[]).map(host);
    const [h0, c0, , bAtt, , uAtt, ctt, , , bias, , bSel] = values;
    const constants = {
      Temp: { data: Float32Array.of(options.temperatureInverse), dims: [1] },
      One: { data: ONE, dims: [1] },
    };
    const weightTensors = built.map(([, name]) => param(name));
    const weights: StepWeights = built.map(([name], i) => ({
      name,
      dims: weightTensors[i].shape,
      data: values[inputs.indexOf(weightTensors[i])],
    }));
    const graphs = stepGraphs(engine, d, selector, weightTensors, weights);
    const out = new Float32Array(size);
    const hs = out.subarray(0, T * B * d);
    const zs = out.subarray(T * B * d, T * B * (d + D));
    const alphas = out.subarray(T * B * (d + D));
    const saved: SavedStep[] = [];
    let h = h0;
    let c = c0;
    for (let t = 0; t < T; t++) {
      const r = graphs.forward.run(
        {
          Batt: { data: bAtt, dims: [D] },
          X: { data: features.subarray(t * step, (t + 1) * step), dims: [B, L, D] },
          H: { data: h, dims: [B, d] },
          C: { data: c, dims: [B, d] },
          M: { data: maskAt(t), dims: [B, 1] },
          Uatt: { data: uAtt, dims: [D, 1] },
          Ctt: { data: ctt, dims: [1] },
          Bias: { data: bias, dims: [G] },
          ...constants,
          ...(selector ? { Bsel: { data: bSel, dims: [1] } } : {}),
        },
        ['Hout', 'Cout', 'Alpha', 'Z', 'Zr', 'A', 'Gates', ...(selector ? (['Gate'] as const) : [])],
      );
      saved.push({
        hPrev: h,
        cPrev: c,
        gates: r.Gates,
        a: r.A,
        alpha: r.Alpha,
        zr: r.Zr,
        gate: selector ? (r as Record<'Gate', Float32Array>).Gate : null,
      });
      hs.set(r.Hout, t * B * d);
      zs.set(r.Z, t * B * D);
      alphas.set(r.Alpha, t * B * L);
      h = r.Hout;
      c = r.Cout;
    }

    const gradFunc = (dy: tf.Tensor): tf.Tensor[] => {
      // This pass's weights' graph: the shared one, or one for this call alone if newer weights replaced it.
      const once = graphs.disposed ? engine.compile(backwardModel(d, selector, weights)) : null;
      try {
        return backward(
          dy,
          once ?? (graphs.backward ??= engine.compile(backwardModel(d, selector, weights))),
        );
      } finally {
        once?.dispose();
      }
    };
    const backward = (dy: tf.Tensor, graph: NativeGraph): tf.Tensor[] => {
      const g = host(dy);
      const dHs = g.subarray(0, T * B * d);
      const dZs = g.subarray(T * B * d, T * B * (d + D));
      const dAlphas = g.subarray(T * B * (d + D));
      // Every step's rows, for the weights' gradients after the loop.
      const hPrevs = new Float32Array(T * B * d);
      const dPre = new Float32Array(T * B * G);
      const dS = new Float32Array(T * B * D);
      const dP = new Float32Array(T * step);
      const dSel = new Float32Array(selector ? T * B : 0);
      const dUatt = new Float32Array(D);
      let dCtt = 0;
      let dH: Float32Array = new Float32Array(B * d);
      let dC: Float32Array = new Float32Array(B * d);
      for (let t = T - 1; t >= 0; t--) {
        const s = saved[t];
        const incoming = dHs.subarray(t * B * d, (t + 1) * B * d);
        for (let k = 0; k < incoming.length; k++) dH[k] += incoming[k];
        const r = graph.run(
          {
            dH: { data: dH, dims: [B, d] },
            dC: { data: dC, dims: [B, d] },
            dAlphaExt: { data: dAlphas.subarray(t * B * L, (t + 1) * B * L), dims: [B, L] },
            dZExt: { data: dZs.subarray(t * B * D, (t + 1) * B * D), dims: [B, D] },
            H: { data: s.hPrev, dims: [B, d] },
            C: { data: s.cPrev, dims: [B, d] },
            M: { data: maskAt(t), dims: [B, 1] },
            Gates: { data: s.gates, dims: [B, G] },
            A: { data: s.a, dims: [B, L, D] },
            Alpha: { data: s.alpha, dims: [B, L] },
            X: { data: features.subarray(t * step, (t + 1) * step), dims: [B, L, D] },
            Zr: { data: s.zr, dims: [B, D] },
            Urow: { data: uAtt, dims: [D] },
            ...constants,
            ...(s.gate ? { Gate: { data: s.gate, dims: [B, 1] } } : {}),
          },
          ['dHprev', 'dCprev', 'dP', 'dS', 'dPre', 'dUatt', 'dE', ...(selector ? (['dSel'] as const) : [])],
        );
        hPrevs.set(s.hPrev, t * B * d);
        dPre.set(r.dPre, t * B * G);
        dS.set(r.dS, t * B * D);
        dP.set(r.dP, t * step);
        if (selector) dSel.set((r as Record<'dSel', Float32Array>).dSel, t * B);
        for (let k = 0; k < D; k++) dUatt[k] += r.dUatt[k];
        dCtt += sum(r.dE);
        dH = r.dHprev;
        dC = r.dCprev;
      }
      const rows = T * B;
      const grads: tf.Tensor[] = [
        tf.tensor2d(dH, [B, d]),
        tf.tensor2d(dC, [B, d]),
        tf.tensor2d(engine.weightGradient(features, dP, T * B * L, D, D), [D, D]),
        // Σ over locations of dP is dS: the bias gradient from the smaller array.
        tf.tensor1d(columnSums(dS, rows, D)),
        tf.tensor2d(engine.weightGradient(hPrevs, dS, rows, d, D), [d, D]),
        tf.tensor2d(dUatt, [D, 1]),
        tf.tensor1d(Float32Array.of(dCtt)),
        tf.tensor2d(engine.weightGradient(hPrevs, dPre, rows, d, G), [d, G]),
        tf.tensor2d(engine.weightGradient(zs, dPre, rows, D, G), [D, G]),
        tf.tensor1d(columnSums(dPre, rows, G)),
      ];
      if (selector) {
        grads.push(tf.tensor2d(engine.weightGradient(hPrevs, dSel, rows, d, 1), [d, 1]));
        grads.push(tf.scalar(sum(dSel)));
      }
      return grads.map((gr, i) => tf.reshape(gr, inputs[i].shape));
    };
    return { value: tf.tensor1d(out), gradFunc };
  });

  const flat = node(...inputs);
  return {
    h: tf.reshape(tf.slice(flat, [0], [T * B * d]), [T * B, d]) as tf.Tensor2D,
    z: tf.reshape(tf.slice(flat, [T * B * d], [T * B * D]), [T * B, D]) as tf.Tensor2D,
    alphas: tf.reshape(tf.slice(flat, [T * B * (d + D)], [T * B * L]), [T, B, L]) as tf.Tensor3D,
  };
}

const ONE = Float32Array.of(1);
