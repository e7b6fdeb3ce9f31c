/**
 * The reference attention energies e_t = U_att·tanh(X_t·Wc_att + b_att [→ extra layers] + h_{t−1}·Wd_att) + c_tt,
 * with the context projection made for every step at once before the loop. Two implementations:
 *
 * - in tfjs (any backend; the projection on the native engine when this thread has one);
 * - fused on the native engine (one attention layer, the reference default): the projection stays on the host and
 *   each step's tanh and U_att product run in onnxruntime, forward and backward, so tfjs never touches a
 *   (B, L, D) block of the attention. Each step's gradient writes its rows of dP; the projection's own gradient
 *   (Xᵀ·dP, Σ dP), which tfjs computes after every step's (its node comes first on the tape), reads them.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { ModelOptions } from '../../common/options.ts';
import { nativeMatMul, type NativeMatMul } from './matmul-engine.ts';
import { contextProjection } from './projection.ts';
import { type StepWeight, stepWeight } from './step-weight.ts';

export interface ContextAttention {
  /** The energies (B, L) of step t, before the temperature, from the previous hidden state (B, dim). */
  energies(t: number, hPrev: tf.Tensor2D): tf.Tensor2D;
  /** The context z_t = Σ_l α_l·x_{t,l} (B, D) from the attention weights α (B, L). */
  context(t: number, alpha: tf.Tensor2D): tf.Tensor2D;
}

/** z_t in tfjs, from the step's features (B, L, D). */
export function tfjsContext(frame: tf.Tensor3D, alpha: tf.Tensor2D): tf.Tensor2D {
  const [B, L] = alpha.shape;
  return tf.sum(tf.mul(frame, tf.reshape(alpha, [B, L, 1])), 1) as tf.Tensor2D;
}

type Param = (name: string) => tf.Tensor;

/** `engine`: this thread's native engine by default; null keeps everything in tfjs. */
export function contextAttention(
  param: Param,
  options: ModelOptions,
  x: tf.Tensor4D,
  engine: NativeMatMul | null = nativeMatMul(),
): ContextAttention {
  const [T, B] = x.shape;
  const stateProjection = stepWeight(engine, param('decoder_Wd_att') as tf.Tensor2D, T, B);
  return engine && options.nLayersAtt === 1
    ? fused(engine, param, x, stateProjection)
    : layered(param, options, x, stateProjection);
}

function layered(param: Param, options: ModelOptions, x: tf.Tensor4D, wd: StepWeight): ContextAttention {
  const [T, B, L, D] = x.shape;
  let p: tf.Tensor = contextProjection(
    tf.reshape(x, [T * B * L, D]) as tf.Tensor2D,
    param('decoder_Wc_att') as tf.Tensor2D,
    param('decoder_b_att'),
  );
  for (let k = 1; k < options.nLayersAtt; k++) {
    p = tf.add(
      tf.matMul(p as tf.Tensor2D, param(`decoder_W_att_${k}`) as tf.Tensor2D),
      param(`decoder_b_att_${k}`),
    );
    // The reference's tanh placement: after every extra layer but the last.
    if (k < options.nLayersAtt - 1) p = tf.tanh(p);
  }
  const frames = tf.unstack(tf.reshape(p, [T, B, L, D]), 0) as tf.Tensor3D[];
  const inputs = tf.unstack(x, 0) as tf.Tensor3D[];
  return {
    context: (t, alpha) => tfjsContext(inputs[t], alpha),
    energies(t, hPrev) {
      const pstate = wd.times(t, hPrev);
      const hidden = tf.tanh(tf.add(frames[t], tf.reshape(pstate, [B, 1, D])));
      const e = tf.matMul(
        tf.reshape(hidden, [B * L, D]) as tf.Tensor2D,
        param('decoder_U_att') as tf.Tensor2D,
      );
      return tf.reshape(tf.add(e, param('decoder_c_tt')), [B, L]) as tf.Tensor2D;
    },
  };
}

function columnSums(m: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(cols);
  for (let r = 0; r < rows; r++) {
    const row = m.subarray(r * cols, (r + 1) * cols);
    for (let c = 0; c < cols; c++) out[c] += row[c];
  }
  return out;
}

function host(t: tf.Tensor): Float32Array {
  return t.dataSync() as Float32Array;
}

function fused(engine: NativeMatMul, param: Param, x: tf.Tensor4D, wd: StepWeight): ContextAttention {
  const [T, B, L, D] = x.shape;
  const n = T * B * L;
  const step = B * L * D;
  const features = host(x);
  let projected: Float32Array = new Float32Array(0);
  // dP, filled step by step during the backward pass.
  let dP: Float32Array | null = null;
  // A (T) placeholder that carries the projection's place in the graph: each step takes its element.
  const projection = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
    const [w, b] = args as tf.Tensor[];
    projected = engine.project(features, host(w), host(b), n, D, D);
    return {
      value: tf.zeros([T]),
      gradFunc: () => {
        const g = dP ?? new Float32Array(n * D);
        dP = null;
        return [
          tf.tensor2d(engine.weightGradient(features, g, n, D, D), [D, D]),
          tf.tensor(columnSums(g, n, D), b.shape),
        ];
      },
    };
  })(param('decoder_Wc_att'), param('decoder_b_att'));

  return {
    context(t, alpha) {
      const frame = features.subarray(t * step, (t + 1) * step);
      const z = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const a = args[0] as tf.Tensor;
        return {
          value: tf.tensor2d(engine.context(host(a), frame, [B, L, D]), [B, D]),
          gradFunc: (dy: tf.Tensor) =>
            tf.tensor2d(engine.contextGradient(host(dy), frame, [B, L, D]), [B, L]),
        };
      });
      return z(alpha) as tf.Tensor2D;
    },
    energies(t, hPrev) {
      const pstate = wd.times(t, hPrev);
      const energy = tf.customGrad((...args: (tf.Tensor | tf.GradSaveFunc)[]) => {
        const [, s, u, c] = args as tf.Tensor[];
        const uHost = host(u);
        const out = engine.energies(projected.subarray(t * step, (t + 1) * step), host(s), uHost, host(c), [
          B,
          L,
          D,
        ]);
        return {
          value: tf.tensor2d(out.energies, [B, L]),
          gradFunc: (dy: tf.Tensor) => {
            const g = engine.energyGradients(out.hidden, host(dy), uHost, [B, L, D]);
            dP ??= new Float32Array(n * D);
            dP.set(g.dP, t * step);
            return [
              tf.zeros([1]),
              tf.tensor2d(g.dS, [B, D]),
              tf.tensor2d(g.dU, [D, 1]),
              tf.reshape(tf.sum(dy), c.shape),
            ];
          },
        };
      });
      return energy(
        tf.slice(projection, [t], [1]),
        pstate,
        param('decoder_U_att'),
        param('decoder_c_tt'),
      ) as tf.Tensor2D;
    },
  };
}
