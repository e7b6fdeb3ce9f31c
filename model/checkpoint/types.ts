import type { FeatureSpec } from '../../common/feature-spec.ts';
import type { ModelOptions } from '../../common/options.ts';
import type { NamedArrays } from '../tensors.ts';

/** Optimiser state a training run needs to resume exactly (e.g. Adam moments), kept in `.h5` checkpoints only. */
export interface OptimizerState {
  /** Optimiser name as the trainer knows it (`adam-reference`, `adam`, `sgd`). */
  name: string;
  /** Number of updates taken so far. */
  step: number;
  /** Per-parameter slots by name; a `/` in a name becomes an HDF5 sub-group (e.g. `m/decoder_W`). */
  slots: NamedArrays;
}

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
  /** The features it was trained on (dataset.json's spec); null for reference `.npz` files and older `.h5`. */
  featureSpec: FeatureSpec | null;
  /** Optimiser state for `train --resume`; absent in reference `.npz` files and in exports. */
  optimizer?: OptimizerState;
}
