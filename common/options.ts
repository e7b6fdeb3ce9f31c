/**
 * Model options: the reference hyper-parameters (original-code.md §2.1) plus Glimpse's extensions.
 * Field names are camelCase here; checkpoints store the reference snake_case names.
 */

export type AttentionForm = 'reference' | 'eq4';
export type DropoutConvention = 'non-inverted' | 'inverted';
/**
 * How a new model's parameters are drawn: 'reference' as the released code (0.01·N(0,1), orthogonal squares);
 * 'glorot' as PyTorch's default for the same layers (U(±1/√fan_in); LSTM weights and bias U(±1/√dim)).
 */
export type ParamInit = 'reference' | 'glorot';
export const PARAM_INITS: readonly ParamInit[] = ['reference', 'glorot'];

export function isParamInit(v: unknown): v is ParamInit {
  return PARAM_INITS.some((name) => name === v);
}

export interface ModelOptions {
  /** D: feature width per location (the reference `ctx_dim`). */
  ctxDim: number;
  /** L: number of feature-map locations (K² for a K×K grid). */
  locations: number;
  dim: number;
  dimOut: number;
  nActions: number;
  nLayersAtt: number;
  nLayersOut: number;
  nLayersInit: number;
  selector: boolean;
  ctx2out: boolean;
  temperatureInverse: number;
  useDropout: boolean;
  /** Sigmoid outputs and summed BCE (the reference `actrec_mAP.py`, Hollywood2). */
  multilabel: boolean;
  /** 'reference': MLP over h_{t-1} and x_t as released; 'eq4': the paper's Eq. 4, from h_{t-1} only. */
  attention: AttentionForm;
  /** Stacked LSTM layers; 1 is the released code. Attention is driven by the top layer. */
  lstmLayers: number;
  /** How dropout was applied in training: the reference scales by 0.5 at test, ours is inverted. */
  dropout: DropoutConvention;
  /** The initialisation the model was created with (only used at creation; recorded for provenance). */
  init: ParamInit;
}

/** The UCF-11 script configuration (`evaluate_ucf11.py`), with L and D for GoogLeNet 7×7×1024. */
export const DEFAULT_MODEL_OPTIONS: ModelOptions = {
  ctxDim: 1024,
  locations: 49,
  dim: 512,
  dimOut: 512,
  nActions: 11,
  nLayersAtt: 1,
  nLayersOut: 1,
  nLayersInit: 1,
  selector: false,
  ctx2out: false,
  temperatureInverse: 1,
  useDropout: true,
  multilabel: false,
  attention: 'reference',
  lstmLayers: 1,
  dropout: 'inverted',
  init: 'reference',
};

export function validateModelOptions(o: ModelOptions): void {
  const positive: (keyof ModelOptions)[] = [
    'ctxDim',
    'locations',
    'dim',
    'dimOut',
    'nActions',
    'nLayersAtt',
    'nLayersOut',
    'nLayersInit',
    'lstmLayers',
  ];
  for (const key of positive) {
    const v = o[key];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 1) {
      throw new Error(`model option ${key} must be a positive integer, got ${String(v)}`);
    }
  }
  if (!(o.temperatureInverse > 0)) {
    throw new Error(`model option temperatureInverse must be > 0, got ${o.temperatureInverse}`);
  }
  if (o.attention !== 'reference' && o.attention !== 'eq4') {
    throw new Error(`model option attention must be 'reference' or 'eq4', got ${String(o.attention)}`);
  }
  if (!isParamInit(o.init)) {
    throw new Error(`model option init must be 'reference' or 'glorot', got ${String(o.init)}`);
  }
}
