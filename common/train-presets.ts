/**
 * Presets of the Train view's run form: the three reference launch scripts (original-code.md §2.1) and a
 * quick one for small sets such as the demo. Keys are the train job's settings (model options and
 * training settings, camelCase); L, D, the class count and multi-label always come from the data.
 * Node-free.
 */
import type { ParamInit } from './options.ts';

export interface TrainPreset {
  id: 'ucf11' | 'hmdb51' | 'hollywood2' | 'quick';
  label: string;
  /** Where the numbers come from. */
  source: string;
  settings: TrainFormSettings;
}

/** Every setting the form edits. */
export interface TrainFormSettings {
  dim: number;
  dimOut: number;
  nLayersAtt: number;
  nLayersOut: number;
  nLayersInit: number;
  selector: boolean;
  ctx2out: boolean;
  useDropout: boolean;
  attention: 'reference' | 'eq4';
  /** How the new model's parameters are drawn (the reference's, or PyTorch's default). */
  init: ParamInit;
  optimizer: 'adam-reference' | 'adam' | 'sgd';
  lrate: number;
  epochs: number;
  batchSize: number;
  /** λ of the doubly stochastic attention penalty, as the reference codes it. */
  alphaC: number;
  decayC: number;
  maxlen: number;
  lastN: number;
  trainingStride: number;
  validStride: number;
  seed: number;
}

/** What every reference script shares. */
const REFERENCE = {
  nLayersOut: 1,
  nLayersInit: 1,
  selector: false,
  ctx2out: false,
  useDropout: true,
  attention: 'reference',
  init: 'reference',
  epochs: 15,
  batchSize: 128,
  alphaC: 0,
  decayC: 1e-5,
  maxlen: 30,
  trainingStride: 1,
  validStride: 1,
  seed: 1234,
} as const;

export const TRAIN_PRESETS: readonly TrainPreset[] = [
  {
    id: 'ucf11',
    label: 'UCF-11 (reference)',
    source: 'scripts/evaluate_ucf11.py',
    settings: {
      ...REFERENCE,
      dim: 512,
      dimOut: 512,
      nLayersAtt: 1,
      optimizer: 'adam-reference',
      lrate: 1e-4,
      lastN: 30,
    },
  },
  {
    id: 'hmdb51',
    label: 'HMDB-51 (reference)',
    source: 'scripts/evaluate_hmdb51gln.py',
    settings: {
      ...REFERENCE,
      dim: 1024,
      dimOut: 1024,
      nLayersAtt: 3,
      optimizer: 'sgd',
      lrate: 1e-5,
      lastN: 16,
    },
  },
  {
    id: 'hollywood2',
    label: 'Hollywood2 (reference)',
    source: 'scripts/evaluate_mAP.py',
    settings: {
      ...REFERENCE,
      dim: 512,
      dimOut: 512,
      nLayersAtt: 1,
      optimizer: 'sgd',
      lrate: 1e-4,
      lastN: 16,
    },
  },
  {
    id: 'quick',
    label: 'Quick (small sets, e.g. the demo)',
    source: "the demo model's settings, 10 epochs (the demo reaches 100% validation at epoch 2)",
    settings: {
      dim: 32,
      dimOut: 32,
      nLayersAtt: 1,
      nLayersOut: 1,
      nLayersInit: 1,
      selector: false,
      ctx2out: true,
      useDropout: false,
      attention: 'reference',
      init: 'reference',
      optimizer: 'adam',
      lrate: 0.005,
      epochs: 10,
      batchSize: 16,
      alphaC: 0,
      decayC: 1e-5,
      maxlen: 16,
      lastN: 16,
      trainingStride: 2,
      validStride: 8,
      seed: 3,
    },
  },
];

/** The settings that are numbers (the form's number fields). */
export type NumberKey = {
  [K in keyof TrainFormSettings]: TrainFormSettings[K] extends number ? K : never;
}[keyof TrainFormSettings];

/** Integer settings and their least value; the others are numbers ≥ 0 (lrate > 0). */
const INTEGERS: Partial<Record<NumberKey, number>> = {
  dim: 1,
  dimOut: 1,
  nLayersAtt: 1,
  nLayersOut: 1,
  nLayersInit: 1,
  epochs: 1,
  batchSize: 1,
  maxlen: 1,
  lastN: 1,
  trainingStride: 1,
  validStride: 1,
  seed: 0,
};

/** The form's problems, field by field (empty when the settings can start a run). */
export function trainFormErrors(s: TrainFormSettings): Partial<Record<keyof TrainFormSettings, string>> {
  const errors: Partial<Record<keyof TrainFormSettings, string>> = {};
  for (const [key, min] of Object.entries(INTEGERS) as [NumberKey, number][]) {
    const v = s[key];
    if (!Number.isInteger(v) || v < min) errors[key] = `a whole number ≥ ${min}`;
  }
  for (const key of ['alphaC', 'decayC'] as const)
    if (!Number.isFinite(s[key]) || s[key] < 0) errors[key] = 'a number ≥ 0';
  if (!Number.isFinite(s.lrate) || s.lrate <= 0) errors.lrate = 'a number > 0';
  if (!errors.lastN && !errors.maxlen && s.lastN > s.maxlen) errors.lastN = `at most maxlen (${s.maxlen})`;
  return errors;
}
