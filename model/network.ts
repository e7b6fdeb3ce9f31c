/**
 * The soft-attention LSTM, step for step as the reference `actrec.py` builds it (original-code.md §1.3–1.6),
 * with the paper's Eq. 4 attention and stacked LSTM layers as options.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelOptions } from '../common/options.ts';
import { contextAttention, tfjsContext } from './native/attention.ts';
import { fusedRecurrence, fusesRecurrence, type RecurrenceOutput } from './native/recurrence.ts';
import { nativeMatMul, type NativeMatMul } from './native/matmul-engine.ts';
import { stepWeight } from './native/step-weight.ts';
import { lstmLayerName } from './params.ts';

export type ParamTensors = Map<string, tf.Tensor>;

export interface ForwardInput {
  /** Features, (T, B, L, D), location-major. */
  x: tf.Tensor4D;
  /** 1 for real samples, (T, B); all ones when omitted. */
  mask?: tf.Tensor2D;
  /** x's values on the host, when the caller has them: the native engine then need not read them back. */
  features?: Float32Array;
}

export interface ForwardOptions {
  training: boolean;
  /** Seed for the dropout masks of this forward pass (training only). */
  dropoutSeed?: number;
  /** The native matrix engine: this thread's by default; null keeps everything in tfjs (tests compare the two). */
  engine?: NativeMatMul | null;
}

export interface ForwardOutput {
  /** Per-step class probabilities (softmax, or sigmoid when multilabel), (T, B, C). */
  probs: tf.Tensor3D;
  /** Per-step attention over locations, (T, B, L). */
  alphas: tf.Tensor3D;
}

/** Dropout with a fixed rate of 0.5, in the checkpoint's convention. */
class Dropout {
  private counter = 0;
  constructor(
    private readonly options: ModelOptions,
    private readonly training: boolean,
    private readonly seed: number,
  ) {}

  apply(t: tf.Tensor): tf.Tensor {
    if (!this.options.useDropout) return t;
    const inverted = this.options.dropout === 'inverted';
    if (!this.training) return inverted ? t : tf.mul(t, 0.5);
    const keep = tf.cast(
      tf.greater(tf.randomUniform(t.shape, 0, 1, 'float32', this.seed + this.counter++), 0.5),
      'float32',
    );
    return tf.mul(t, inverted ? tf.mul(keep, 2) : keep);
  }
}

function param(params: ParamTensors, name: string): tf.Tensor {
  const p = params.get(name);
  if (!p) throw new Error(`model parameter ${name} is missing`);
  return p;
}

function dense(params: ParamTensors, prefix: string, input: tf.Tensor): tf.Tensor {
  return tf.add(
    tf.matMul(input as tf.Tensor2D, param(params, `${prefix}_W`) as tf.Tensor2D),
    param(params, `${prefix}_b`),
  );
}

interface LstmState {
  h: tf.Tensor2D;
  c: tf.Tensor2D;
}

/** One LSTM step with the reference gate order i, f, o, g and the mask carry-over of padded columns. */
function lstmStep(preact: tf.Tensor2D, prev: LstmState, dim: number, mask: tf.Tensor2D | null): LstmState {
  const [i, f, o, g] = tf.split(preact, [dim, dim, dim, dim], 1);
  let c = tf.add(tf.mul(tf.sigmoid(f), prev.c), tf.mul(tf.sigmoid(i), tf.tanh(g))) as tf.Tensor2D;
  if (mask) c = tf.add(tf.mul(mask, c), tf.mul(tf.sub(1, mask), prev.c)) as tf.Tensor2D;
  let h = tf.mul(tf.sigmoid(o), tf.tanh(c)) as tf.Tensor2D;
  if (mask) h = tf.add(tf.mul(mask, h), tf.mul(tf.sub(1, mask), prev.h)) as tf.Tensor2D;
  return { h, c };
}

/** The recurrence step by step in tfjs (its heavy products on the native engine when this thread has one). */
function recurrence(
  params: ParamTensors,
  options: ModelOptions,
  input: ForwardInput,
  initial: LstmState[],
  engine: NativeMatMul | null,
): RecurrenceOutput {
  const { x } = input;
  const [T, B] = x.shape;
  const d = options.dim;
  let states = initial;
  // The context projection does not depend on h: one product for every step, before the loop.
  const attention =
    options.attention === 'reference'
      ? contextAttention((name) => param(params, name), options, x, engine)
      : null;

  // The weights multiplied at every step (on the native engine when this thread has one).
  const recurrent = Array.from({ length: options.lstmLayers }, (_, layer) => {
    const prefix = lstmLayerName('decoder', layer);
    return {
      U: stepWeight(engine, param(params, `${prefix}_U`) as tf.Tensor2D, T, B),
      W: stepWeight(engine, param(params, `${prefix}_W`) as tf.Tensor2D, T, B),
    };
  });
  const masks = input.mask
    ? tf.unstack(input.mask, 0).map((m) => tf.reshape(m, [B, 1]) as tf.Tensor2D)
    : null;
  // The steps' features, for the context when the attention does not provide it (Eq. 4).
  const frames = attention ? [] : (tf.unstack(x, 0) as tf.Tensor3D[]);
  const top = options.lstmLayers - 1;
  const hs: tf.Tensor2D[] = [];
  const zs: tf.Tensor2D[] = [];
  const alphas: tf.Tensor2D[] = [];
  for (let t = 0; t < T; t++) {
    const hPrev = states[top].h;
    let logits: tf.Tensor2D;
    if (attention) {
      logits = attention.energies(t, hPrev);
    } else {
      logits = tf.matMul(hPrev, param(params, 'decoder_W_loc') as tf.Tensor2D);
    }
    if (options.temperatureInverse !== 1) logits = tf.mul(logits, options.temperatureInverse);
    const alpha = tf.softmax(logits) as tf.Tensor2D;
    let z = attention ? attention.context(t, alpha) : tfjsContext(frames[t], alpha);
    if (options.selector) {
      const gate = tf.sigmoid(
        tf.add(
          tf.matMul(hPrev, param(params, 'decoder_W_sel') as tf.Tensor2D),
          param(params, 'decoder_b_sel'),
        ),
      );
      z = tf.mul(gate, z) as tf.Tensor2D;
    }
    const mask = masks ? masks[t] : null;
    const next: LstmState[] = [];
    let layerInput: tf.Tensor2D = z;
    for (let layer = 0; layer < options.lstmLayers; layer++) {
      const prefix = lstmLayerName('decoder', layer);
      const preact = tf.add(
        tf.add(recurrent[layer].U.times(t, states[layer].h), recurrent[layer].W.times(t, layerInput)),
        param(params, `${prefix}_b`),
      ) as tf.Tensor2D;
      const state = lstmStep(preact, states[layer], d, mask);
      next.push(state);
      layerInput = state.h;
    }
    states = next;
    hs.push(states[top].h);
    zs.push(z);
    alphas.push(alpha);
  }

  return {
    h: tf.concat(hs, 0) as tf.Tensor2D,
    z: tf.concat(zs, 0) as tf.Tensor2D,
    alphas: tf.stack(alphas, 0) as tf.Tensor3D,
  };
}

export function forward(
  params: ParamTensors,
  options: ModelOptions,
  input: ForwardInput,
  run: ForwardOptions,
): ForwardOutput {
  const { x } = input;
  const [T, B, L, D] = x.shape;
  if (L !== options.locations || D !== options.ctxDim) {
    throw new Error(
      `features are ${L}×${D} per frame but the model expects ${options.locations}×${options.ctxDim}`,
    );
  }
  const dropout = new Dropout(options, run.training, run.dropoutSeed ?? 0);

  const engine = run.engine === undefined ? nativeMatMul() : run.engine;
  // The features on the host, for the native engine: the caller's copy when it has one.
  const features = engine ? (input.features ?? (x.dataSync() as Float32Array)) : null;

  // Initial state from the mean over all frames and locations of the clip (not causal, as the reference). In tfjs the
  // sum over frames is a product with ones: a reduction over axes 0 and 2 would first transpose the whole block.
  let mean: tf.Tensor;
  if (engine && features) {
    mean = tf.tensor2d(engine.clipMean(features, [T, B, L, D]), [B, D]);
  } else {
    const frameSum = tf.matMul(tf.ones([1, T]) as tf.Tensor2D, tf.reshape(x, [T, B * L * D]) as tf.Tensor2D);
    mean = tf.div(tf.sum(tf.reshape(frameSum, [B, L, D]), 1), T * L);
  }
  for (let k = 1; k < options.nLayersInit; k++)
    mean = dropout.apply(tf.relu(dense(params, `ff_init_${k}`, mean)));
  const states: LstmState[] = [];
  for (let layer = 0; layer < options.lstmLayers; layer++) {
    states.push({
      h: tf.tanh(dense(params, lstmLayerName('ff_state', layer), mean)) as tf.Tensor2D,
      c: tf.tanh(dense(params, lstmLayerName('ff_memory', layer), mean)) as tf.Tensor2D,
    });
  }

  const { h, z, alphas } =
    engine && features && fusesRecurrence(options)
      ? fusedRecurrence(
          engine,
          (name) => param(params, name),
          options,
          x,
          features,
          states[0],
          input.mask ? (input.mask.dataSync() as Float32Array) : null,
        )
      : recurrence(params, options, input, states, engine);

  // The deep output layer acts on every step at once.
  let s = dense(params, 'ff_logit_lstm', dropout.apply(h));
  if (options.ctx2out) s = tf.add(s, dense(params, 'ff_logit_ctx', z));
  s = dropout.apply(tf.tanh(s));
  for (let k = 1; k < options.nLayersOut; k++) s = dropout.apply(tf.relu(dense(params, `ff_logit_h${k}`, s)));
  const out = dense(params, 'ff_logit', s);
  const probs = options.multilabel ? tf.sigmoid(out) : tf.softmax(out);
  return {
    probs: tf.reshape(probs, [T, B, options.nActions]) as tf.Tensor3D,
    alphas,
  };
}
