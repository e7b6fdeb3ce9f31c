/**
 * The reference checkpoint's options dict (`model.npz.pkl`, snake_case, as `train()` pickles `locals()`)
 * to and from a Checkpoint. Model structure goes to `options`, everything else to `training`.
 */
import { basename } from 'node:path';
import type { AttentionForm, ModelOptions } from '../../common/options.ts';
import { isParamInit, validateModelOptions } from '../../common/options.ts';
import type { HostArray, NamedArrays } from '../tensors.ts';
import { decodeNpzEntry, type NpzEntries } from './npz.ts';
import { type PickleData, type PickleDict, type PickleInput, PyFloat } from './pickle.ts';
import type { Checkpoint } from './types.ts';
import { looksLikeParameter, validatedParameters } from './validate.ts';

/** Keys that describe the model's structure (ModelOptions); the reference's plus Glimpse's extensions. */
const STRUCTURE_KEYS = new Set([
  'ctx_dim',
  'dim',
  'dim_out',
  'n_actions',
  'n_layers_att',
  'n_layers_out',
  'n_layers_init',
  'selector',
  'ctx2out',
  'temperature_inverse',
  'use_dropout',
  'multilabel',
  'locations',
  'attention',
  'lstm_layers',
  'init',
]);

/** Glimpse metadata stored in the pickle (ignored by the reference code). */
const CLASS_NAMES_KEY = 'class_names';
const PROVENANCE_KEY = 'glimpse_provenance';

/** Arrays `train()` saves next to the parameters (`history_errs`, and the final `*_err`, `zipped_params`). */
const REFERENCE_EXTRAS = ['history_errs', 'train_err', 'valid_err', 'test_err'];

/** The grid the reference features use (GoogLeNet 7×7), unless the options say otherwise. */
const REFERENCE_LOCATIONS = 49;

/** The Hollywood2 dataset name: the reference's only multi-label configuration (`actrec_mAP.py`). */
export const MULTILABEL_DATASET = 'h2mAP';
const SINGLE_LABEL_DATASET = 'ucf11';

class OptionReader {
  constructor(
    private readonly dict: PickleDict,
    private readonly file: string,
  ) {}

  has(key: string): boolean {
    return Object.prototype.hasOwnProperty.call(this.dict, key) && this.dict[key] !== null;
  }

  private bad(key: string, what: string): never {
    throw new Error(`${this.file}: option ${key} must be ${what}, got ${JSON.stringify(this.dict[key])}`);
  }

  int(key: string, fallback: () => number): number {
    if (!this.has(key)) return fallback();
    const v = this.dict[key];
    if (typeof v !== 'number' || !Number.isInteger(v)) this.bad(key, 'an integer');
    return v;
  }

  num(key: string, fallback: number): number {
    if (!this.has(key)) return fallback;
    const v = this.dict[key];
    if (typeof v !== 'number') this.bad(key, 'a number');
    return v;
  }

  bool(key: string, fallback: boolean): boolean {
    if (!this.has(key)) return fallback;
    const v = this.dict[key];
    // Python 2 code sometimes passes 0/1 for flags.
    if (v === 0 || v === 1) return v === 1;
    if (typeof v !== 'boolean') this.bad(key, 'a boolean');
    return v;
  }

  str(key: string): string | undefined {
    if (!this.has(key)) return undefined;
    const v = this.dict[key];
    if (typeof v !== 'string') this.bad(key, 'a string');
    return v;
  }
}

function asDict(data: PickleData, file: string): PickleDict {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    const kind = data === null ? 'None' : Array.isArray(data) ? 'a list' : typeof data;
    throw new Error(`${file}: expected a dict of options, found ${kind}`);
  }
  return data;
}

function shapeOf(entries: NpzEntries, name: string, npzPath: string): number[] | undefined {
  return entries.has(name) ? decodeNpzEntry(entries, name, npzPath).shape : undefined;
}

/** Model options from the reference dict; D, d, d_o and C fall back to the parameter shapes when absent. */
export function modelOptionsFromReference(
  dict: PickleDict,
  entries: NpzEntries,
  pklPath: string,
  npzPath: string,
): ModelOptions {
  const r = new OptionReader(dict, pklPath);
  const stateW = shapeOf(entries, 'ff_state_W', npzPath);
  const logitW = shapeOf(entries, 'ff_logit_W', npzPath);
  const fromShape = (shape: number[] | undefined, axis: number, key: string) => () => {
    if (!shape || shape.length !== 2) {
      throw new Error(`${pklPath}: option ${key} is missing and cannot be inferred from ${npzPath}`);
    }
    return shape[axis];
  };
  const ctxDim = r.int('ctx_dim', fromShape(stateW, 0, 'ctx_dim'));
  if (stateW && stateW[0] !== ctxDim) {
    throw new Error(
      `${npzPath}: parameter ff_state_W has ${stateW[0]} rows but ${pklPath} says ctx_dim is ${ctxDim}`,
    );
  }
  const attentionText = r.str('attention') ?? 'reference';
  if (attentionText !== 'reference' && attentionText !== 'eq4') {
    throw new Error(`${pklPath}: option attention must be 'reference' or 'eq4', got '${attentionText}'`);
  }
  const attention: AttentionForm = attentionText;
  // The released code has one initialisation; Glimpse writes the key only for the other.
  const init = r.str('init') ?? 'reference';
  if (!isParamInit(init)) {
    throw new Error(`${pklPath}: option init must be 'reference' or 'glorot', got '${init}'`);
  }
  const locLogits = attention === 'eq4' ? shapeOf(entries, 'decoder_W_loc', npzPath) : undefined;
  const locations = r.int('locations', () =>
    locLogits && locLogits.length === 2 ? locLogits[1] : REFERENCE_LOCATIONS,
  );
  const dataset = r.str('dataset');
  const options: ModelOptions = {
    ctxDim,
    locations,
    dim: r.int('dim', fromShape(stateW, 1, 'dim')),
    dimOut: r.int('dim_out', fromShape(logitW, 0, 'dim_out')),
    nActions: r.int('n_actions', fromShape(logitW, 1, 'n_actions')),
    nLayersAtt: r.int('n_layers_att', () => 1),
    nLayersOut: r.int('n_layers_out', () => 1),
    nLayersInit: r.int('n_layers_init', () => 1),
    selector: r.bool('selector', false),
    ctx2out: r.bool('ctx2out', false),
    temperatureInverse: r.num('temperature_inverse', 1),
    useDropout: r.bool('use_dropout', false), // train()'s default
    multilabel: r.bool('multilabel', dataset === MULTILABEL_DATASET),
    attention,
    lstmLayers: r.int('lstm_layers', () => 1),
    dropout: 'non-inverted', // the reference scales dropped-out activations by 0.5 at test time
    init,
  };
  try {
    validateModelOptions(options);
  } catch (e) {
    throw new Error(`${pklPath}: ${(e as Error).message}`);
  }
  return options;
}

/** The training options: every scalar key that is not model structure or Glimpse metadata. */
export function trainingFromReference(dict: PickleDict): Record<string, string | number | boolean> {
  const training: Record<string, string | number | boolean> = {};
  for (const [key, value] of Object.entries(dict)) {
    if (STRUCTURE_KEYS.has(key) || key === CLASS_NAMES_KEY || key === PROVENANCE_KEY) continue;
    if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') {
      training[key] = value;
    }
  }
  return training;
}

function classNamesFromReference(dict: PickleDict, pklPath: string): string[] {
  const v = dict[CLASS_NAMES_KEY];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || !v.every((s) => typeof s === 'string')) {
    throw new Error(`${pklPath}: option ${CLASS_NAMES_KEY} must be a list of strings`);
  }
  return v as string[];
}

function provenanceFromReference(
  dict: PickleDict,
  entries: NpzEntries,
  npzPath: string,
): Record<string, unknown> {
  let provenance: Record<string, unknown> = {};
  const stored = dict[PROVENANCE_KEY];
  if (typeof stored === 'string') {
    try {
      const parsed: unknown = JSON.parse(stored);
      if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) {
        provenance = parsed as Record<string, unknown>;
      }
    } catch {
      // Metadata only: an unreadable provenance string does not make the model unusable.
    }
  }
  const errors: Record<string, number | number[] | number[][]> = {};
  for (const name of REFERENCE_EXTRAS) {
    if (!entries.has(name)) continue;
    let a: HostArray;
    try {
      a = decodeNpzEntry(entries, name, npzPath);
    } catch {
      continue; // not a parameter; a record we cannot read is simply not carried over
    }
    const values = Array.from(a.data);
    if (a.shape.length === 0) errors[name] = values[0];
    else if (a.shape.length === 2) {
      const cols = a.shape[1];
      errors[name] = Array.from({ length: a.shape[0] }, (_, i) => values.slice(i * cols, (i + 1) * cols));
    } else errors[name] = values;
  }
  if (Object.keys(errors).length > 0) provenance.referenceErrors = errors;
  return provenance;
}

/**
 * Builds a Checkpoint from a reference `.npz` (its raw entries) and its options pickle.
 * Only parameters are required to be float arrays; the reference's extra records are optional.
 */
export function checkpointFromReference(
  optionsPickle: PickleData,
  entries: NpzEntries,
  npzPath: string,
  pklPath: string,
): Checkpoint {
  const dict = asDict(optionsPickle, pklPath);
  const options = modelOptionsFromReference(dict, entries, pklPath, npzPath);
  const arrays: NamedArrays = new Map();
  for (const name of entries.keys()) {
    if (looksLikeParameter(name)) arrays.set(name, decodeNpzEntry(entries, name, npzPath));
  }
  return {
    options,
    params: validatedParameters(arrays, options, npzPath),
    classNames: classNamesFromReference(dict, pklPath),
    training: trainingFromReference(dict),
    provenance: provenanceFromReference(dict, entries, npzPath),
    featureSpec: null,
  };
}

type TrainingValue = string | number | boolean;

/** `train()`'s keyword arguments that are not structure, with `evaluate_ucf11.py`'s values (original-code.md §2.1). */
const SCRIPT_DEFAULTS: [string, TrainingValue | null][] = [
  ['patience', 10],
  ['max_epochs', 15],
  ['dispFreq', 20],
  ['decay_c', 1e-5],
  ['alpha_c', 0],
  ['lrate', 1e-4],
  ['maxlen', 30],
  ['optimizer', 'adam'],
  ['batch_size', 128],
  ['valid_batch_size', 256],
  ['saveto', 'model.npz'],
  ['validFreq', 100],
  ['saveFreq', 100],
  ['dataset', SINGLE_LABEL_DATASET],
  ['dictionary', null],
  ['reload_', false],
  ['training_stride', 1],
  ['testing_stride', 1],
  ['last_n', 30],
  ['fps', 30],
];

/** Where `evaluate_mAP.py` (Hollywood2) differs from the UCF-11 script. */
const MULTILABEL_DEFAULTS: Record<string, TrainingValue> = {
  optimizer: 'sgd',
  valid_batch_size: 512,
  dataset: MULTILABEL_DATASET,
  last_n: 16,
};

/** Keys the reference code treats as floats; written as Python floats even when integral. */
const FLOAT_KEYS = new Set(['decay_c', 'alpha_c', 'temperature_inverse', 'lrate']);

/** Glimpse optimiser names → the reference's (`adam` there is the arctic-captions variant). */
const REFERENCE_OPTIMIZER: Record<string, string> = { 'adam-reference': 'adam', adam: 'adam' };

function pyValue(key: string, v: TrainingValue | null): PickleInput {
  return typeof v === 'number' && FLOAT_KEYS.has(key) ? new PyFloat(v) : v;
}

/**
 * The options dict to pickle next to an exported `.npz`: every key the reference `train()` reads
 * (so the Theano code loads the model, `reload_` included), the script defaults for training keys the
 * checkpoint does not record, and Glimpse's extra keys only where they differ from the reference.
 */
export function referenceOptionsDict(ckpt: Checkpoint, npzPath: string): Record<string, PickleInput> {
  const o = ckpt.options;
  const t = ckpt.training;
  const defaults = new Map(SCRIPT_DEFAULTS);
  if (o.multilabel) for (const [k, v] of Object.entries(MULTILABEL_DEFAULTS)) defaults.set(k, v);

  const training = (key: string): TrainingValue | null => {
    const fallback = defaults.get(key) ?? null;
    const v = t[key];
    if (v === undefined) return fallback;
    // Keep the recorded value only where its type is the one the reference expects.
    if (fallback !== null && typeof v !== typeof fallback) return fallback;
    return v;
  };
  let optimizer = String(training('optimizer'));
  optimizer = REFERENCE_OPTIMIZER[optimizer] ?? optimizer;
  let dataset = String(training('dataset'));
  // The reference decides single- vs multi-label by the dataset name alone.
  if (o.multilabel) dataset = MULTILABEL_DATASET;
  else if (dataset === MULTILABEL_DATASET) dataset = SINGLE_LABEL_DATASET;

  const structure: Record<string, PickleInput> = {
    dim_out: o.dimOut,
    ctx_dim: o.ctxDim,
    dim: o.dim,
    n_actions: o.nActions,
    n_layers_att: o.nLayersAtt,
    n_layers_out: o.nLayersOut,
    n_layers_init: o.nLayersInit,
    ctx2out: o.ctx2out,
    temperature_inverse: new PyFloat(o.temperatureInverse),
    selector: o.selector,
    use_dropout: o.useDropout,
  };
  // train()'s argument order, for a pickle that reads like the reference's.
  const order = [
    'dim_out',
    'ctx_dim',
    'dim',
    'n_actions',
    'n_layers_att',
    'n_layers_out',
    'n_layers_init',
    'ctx2out',
    'patience',
    'max_epochs',
    'dispFreq',
    'decay_c',
    'alpha_c',
    'temperature_inverse',
    'lrate',
    'selector',
    'maxlen',
    'optimizer',
    'batch_size',
    'valid_batch_size',
    'saveto',
    'validFreq',
    'saveFreq',
    'dataset',
    'dictionary',
    'use_dropout',
    'reload_',
    'training_stride',
    'testing_stride',
    'last_n',
    'fps',
  ];
  const out = Object.create(null) as Record<string, PickleInput>; // keys are data, never prototypes
  for (const key of order) {
    if (key in structure) out[key] = structure[key];
    else if (key === 'optimizer') out[key] = optimizer;
    else if (key === 'dataset') out[key] = dataset;
    else if (key === 'saveto') out[key] = basename(npzPath);
    else if (key === 'reload_') out[key] = false;
    else out[key] = pyValue(key, training(key));
  }
  // Training keys beyond train()'s arguments travel along (the reference ignores them).
  for (const [key, v] of Object.entries(t)) {
    if (!(key in out) && !STRUCTURE_KEYS.has(key) && key !== CLASS_NAMES_KEY && key !== PROVENANCE_KEY) {
      out[key] = pyValue(key, v);
    }
  }
  if (o.locations !== REFERENCE_LOCATIONS) out.locations = o.locations;
  if (o.attention !== 'reference') out.attention = o.attention;
  if (o.lstmLayers !== 1) out.lstm_layers = o.lstmLayers;
  if (o.init !== 'reference') out.init = o.init;
  if (ckpt.classNames.length > 0) out[CLASS_NAMES_KEY] = [...ckpt.classNames];
  if (Object.keys(ckpt.provenance).length > 0) out[PROVENANCE_KEY] = JSON.stringify(ckpt.provenance);
  return out;
}
