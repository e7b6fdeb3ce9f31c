import type { ModelOptions } from '../options.ts';
import type { NamedArrays } from '../tensors.ts';

/** Everything a trained model is: options, parameters and what it was trained on. */
export interface Checkpoint {
  options: ModelOptions;
  params: NamedArrays;
  /** Class names in class-id order; empty when unknown (reference `.npz` files carry none). */
  classNames: string[];
  /** Reference training options that are not model structure (maxlen, last_n, decay_c, dataset, …). */
  training: Record<string, string | number | boolean>;
  /** Where the model came from: dataset, epochs, seed, git revision, timestamps. */
  provenance: Record<string, unknown>;
}
