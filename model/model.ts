/**
 * A model in memory: options plus its parameters as tfjs variables, with the host-array view checkpoints need.
 */
import * as tf from '@tensorflow/tfjs-core';
import { forward, type ForwardOutput } from './network.ts';
import { type ModelOptions, validateModelOptions } from '../common/options.ts';
import { checkParameters, initParameters, parameterSpecs } from './params.ts';
import type { NamedArrays } from './tensors.ts';

export class AttentionModel {
  readonly variables: Map<string, tf.Variable>;

  private constructor(
    readonly options: ModelOptions,
    params: NamedArrays,
  ) {
    this.variables = new Map();
    for (const spec of parameterSpecs(options)) {
      const p = params.get(spec.name);
      if (!p) throw new Error(`parameter ${spec.name} is missing`);
      this.variables.set(spec.name, tf.variable(tf.tensor(p.data, spec.shape, 'float32'), true));
    }
  }

  static fromParameters(options: ModelOptions, params: NamedArrays): AttentionModel {
    validateModelOptions(options);
    checkParameters(params, options);
    return new AttentionModel(options, params);
  }

  static initialise(options: ModelOptions, seed: number): AttentionModel {
    validateModelOptions(options);
    return new AttentionModel(options, initParameters(options, seed));
  }

  /**
   * Runs the network on a (T, B, L, D) feature block; the caller owns (and disposes) the result. `features`: x's
   * values on the host, when the caller has them (the native engine reads them there).
   */
  run(
    x: tf.Tensor4D,
    training: boolean,
    mask?: tf.Tensor2D,
    dropoutSeed?: number,
    features?: Float32Array,
  ): ForwardOutput {
    return forward(this.variables, this.options, { x, mask, features }, { training, dropoutSeed });
  }

  async parameters(): Promise<NamedArrays> {
    const out: NamedArrays = new Map();
    for (const [name, v] of this.variables) {
      out.set(name, { shape: [...v.shape], data: Float32Array.from(await v.data()) });
    }
    return out;
  }

  assign(params: NamedArrays): void {
    checkParameters(params, this.options);
    for (const [name, v] of this.variables) {
      const p = params.get(name);
      if (p) v.assign(tf.tensor(p.data, v.shape, 'float32'));
    }
  }

  dispose(): void {
    for (const v of this.variables.values()) v.dispose();
  }

  /** `using model = …`: the variables are freed when the scope ends. */
  [Symbol.dispose](): void {
    this.dispose();
  }
}
