/**
 * Optimisers with their state in named slots, so a checkpoint can carry them across `--resume`.
 * `adam-reference` is the released code's variant (original-code.md §2): fixed step 2e-4, `lrate` ignored,
 * and a "bias correction" computed with (1 − β) that in effect corrects nothing.
 */
import * as tf from '@tensorflow/tfjs-core';
import type { HostArray, NamedArrays } from './tensors.ts';

export type OptimizerName = 'adam-reference' | 'adam' | 'sgd';
export const OPTIMIZER_NAMES: readonly OptimizerName[] = ['adam-reference', 'adam', 'sgd'];

export interface OptimizerState {
  name: OptimizerName;
  step: number;
  slots: NamedArrays;
}

const ADAM_EPSILON = 1e-8;

export class Optimizer {
  private step = 0;
  private readonly slots = new Map<string, tf.Variable>();

  constructor(
    readonly name: OptimizerName,
    private readonly lrate: number,
  ) {}

  get steps(): number {
    return this.step;
  }

  /** Applies one update to every variable that has a gradient. */
  apply(variables: Map<string, tf.Variable>, grads: Map<string, tf.Tensor>): void {
    this.step += 1;
    const t = this.step;
    tf.tidy(() => {
      for (const [name, v] of variables) {
        const g = grads.get(name);
        if (!g) continue;
        if (this.name === 'sgd') {
          v.assign(tf.sub(v, tf.mul(this.lrate, g)));
          continue;
        }
        const m = this.slot(`${name}/m`, v);
        const s = this.slot(`${name}/v`, v);
        const mNew = tf.add(tf.mul(0.9, m), tf.mul(0.1, g));
        const sNew = tf.add(tf.mul(0.999, s), tf.mul(0.001, tf.square(g)));
        m.assign(mNew);
        s.assign(sNew);
        let stepSize: number;
        if (this.name === 'adam-reference') {
          // lr_t = lr0·sqrt(1 − 0.001^t)/(1 − 0.1^t), with lr0 = 2e-4 hard-coded.
          stepSize = (2e-4 * Math.sqrt(1 - 0.001 ** t)) / (1 - 0.1 ** t);
        } else {
          stepSize = (this.lrate * Math.sqrt(1 - 0.999 ** t)) / (1 - 0.9 ** t);
        }
        v.assign(tf.sub(v, tf.mul(stepSize, tf.div(mNew, tf.add(tf.sqrt(sNew), ADAM_EPSILON)))));
      }
    });
  }

  private slot(key: string, like: tf.Variable): tf.Variable {
    let s = this.slots.get(key);
    if (!s) {
      s = tf.variable(tf.zerosLike(like), false);
      this.slots.set(key, s);
    }
    return s;
  }

  async state(): Promise<OptimizerState> {
    const slots: NamedArrays = new Map();
    for (const [key, v] of this.slots) {
      const entry: HostArray = { shape: [...v.shape], data: (await v.data()) as Float32Array };
      slots.set(key, entry);
    }
    return { name: this.name, step: this.step, slots };
  }

  restore(state: OptimizerState): void {
    if (state.name !== this.name) {
      throw new Error(`optimizer state is for ${state.name}, not ${this.name}`);
    }
    this.step = state.step;
    for (const [key, arr] of state.slots) {
      this.slots.get(key)?.dispose();
      this.slots.set(key, tf.variable(tf.tensor(arr.data, arr.shape), false));
    }
  }

  dispose(): void {
    for (const v of this.slots.values()) v.dispose();
    this.slots.clear();
  }
}

export function parseOptimizerName(value: string): OptimizerName {
  if ((OPTIMIZER_NAMES as readonly string[]).includes(value)) return value as OptimizerName;
  throw new Error(`unknown optimizer '${value}' (choose ${OPTIMIZER_NAMES.join(', ')})`);
}
