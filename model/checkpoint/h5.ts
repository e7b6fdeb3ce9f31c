/**
 * Glimpse's native checkpoint: an HDF5 file (via h5wasm) readable by h5py. One float32 dataset per
 * parameter at the root under its reference name; root attributes hold JSON strings (`glimpse_format`,
 * `options`, `class_names`, `training`, `provenance`, and `feature_spec` when the training data had one);
 * optional optimiser state under `optimizer/`.
 */
import { promises as fs } from 'node:fs';
import { dirname } from 'node:path';
import type { Dataset, File as H5File, Group } from 'h5wasm/node';
import { parseFeatureSpec } from '../../common/feature-spec.ts';
import type { AttentionForm, DropoutConvention, ModelOptions, ParamInit } from '../../common/options.ts';
import { isParamInit, validateModelOptions } from '../../common/options.ts';
import type { HostArray, NamedArrays } from '../tensors.ts';
import { commitTempFile, errorLine as describeError, removeQuietly, tempPathFor } from '../atomic-file.ts';
import type { Checkpoint, OptimizerState } from './types.ts';
import { validatedParameters } from './validate.ts';

export const GLIMPSE_FORMAT = 'glimpse-checkpoint/1';
const OPTIMIZER_GROUP = 'optimizer';

/**
 * Runs h5wasm calls with its throwing error handler, so HDF5 failures become exceptions instead of
 * HDF5-DIAG text on stderr; the default handler is restored afterwards. The calls are synchronous,
 * so nothing else runs in between.
 */
async function withHdf5Errors<T>(fn: (h5: H5Wasm) => T): Promise<T> {
  const h5 = await loadH5wasm();
  const module = await h5.ready;
  module.activate_throwing_error_handler();
  try {
    return fn(h5);
  } finally {
    module.deactivate_throwing_error_handler();
  }
}

type H5Wasm = (typeof import('h5wasm/node'))['default'];
let h5wasmModule: Promise<H5Wasm> | undefined;

/** h5wasm takes seconds to load: only code that touches `.h5` checkpoints pays for it. */
function loadH5wasm(): Promise<H5Wasm> {
  h5wasmModule ??= import('h5wasm/node').then((m) => m.default);
  return h5wasmModule;
}

/** The most specific line of an HDF5 error stack (the innermost `func(): reason`), or the message itself. */
function hdf5Reason(e: unknown): string {
  const text = e instanceof Error ? e.message : String(e);
  const reasons = [...text.matchAll(/\(\): ([^\n]+)/g)].map((m) => m[1].trim());
  return reasons.at(-1) ?? text.split('\n')[0];
}

function writeArray(group: Group, name: string, array: HostArray): void {
  group.create_dataset({ name, data: array.data, shape: array.shape, dtype: '<f4' });
}

function writeOptimizer(file: H5File, state: OptimizerState): void {
  const group = file.create_group(OPTIMIZER_GROUP, true);
  group.create_attribute('name', state.name);
  // h5wasm stores an integral number as int32; larger step counts go as float64 (exact to 2^53).
  if (state.step <= 0x7fffffff) group.create_attribute('step', state.step);
  else group.create_attribute('step', state.step, null, '<f8');
  const made = new Set<string>();
  for (const [name, array] of state.slots) {
    // A slot named `m/decoder_W` lives in sub-group `m`; create the groups on the way.
    const parts = name.split('/');
    let prefix = OPTIMIZER_GROUP;
    for (const part of parts.slice(0, -1)) {
      prefix = `${prefix}/${part}`;
      if (!made.has(prefix)) {
        file.create_group(prefix, true);
        made.add(prefix);
      }
    }
    writeArray(file, `${OPTIMIZER_GROUP}/${name}`, array);
  }
}

/** Writes `ckpt` to `path` atomically (h5wasm writes the temp file; then fsync and rename). */
export async function writeH5Checkpoint(path: string, ckpt: Checkpoint): Promise<void> {
  const params = validatedParameters(ckpt.params, ckpt.options, path);
  const step = ckpt.optimizer?.step;
  if (step !== undefined && !(Number.isSafeInteger(step) && step >= 0)) {
    throw new Error(`${path}: optimizer step must be a non-negative integer, got ${step}`);
  }
  try {
    await fs.access(dirname(path), fs.constants.W_OK);
  } catch (e) {
    throw new Error(`${path}: cannot write (${describeError(e)})`);
  }
  const temp = tempPathFor(path);
  await removeQuietly(temp);
  try {
    await withHdf5Errors((h5wasm) => {
      const file = new h5wasm.File(temp, 'w', { track_order: true }); // keep slot order
      try {
        file.create_attribute('glimpse_format', GLIMPSE_FORMAT);
        file.create_attribute('options', JSON.stringify(ckpt.options));
        file.create_attribute('class_names', JSON.stringify(ckpt.classNames));
        file.create_attribute('training', JSON.stringify(ckpt.training));
        file.create_attribute('provenance', JSON.stringify(ckpt.provenance));
        if (ckpt.featureSpec) file.create_attribute('feature_spec', JSON.stringify(ckpt.featureSpec));
        for (const [name, array] of params) writeArray(file, name, array);
        if (ckpt.optimizer) writeOptimizer(file, ckpt.optimizer);
      } finally {
        file.close();
      }
    });
    await commitTempFile(temp, path);
  } catch (e) {
    await removeQuietly(temp);
    throw new Error(`${path}: cannot write (${hdf5Reason(e)})`);
  }
}

function readJsonAttribute(file: H5File, name: string, path: string): unknown {
  const attr = file.attrs[name];
  if (!attr) throw new Error(`${path}: attribute ${name} is missing`);
  const text = attr.value;
  if (typeof text !== 'string') throw new Error(`${path}: attribute ${name} is not a string`);
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new Error(`${path}: attribute ${name} is not valid JSON`);
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** Checks every ModelOptions field's type, so a damaged or foreign attribute is a clear error. */
export function parseModelOptions(value: unknown, path: string): ModelOptions {
  if (!isRecord(value)) throw new Error(`${path}: attribute options is not a JSON object`);
  const field = <T>(key: keyof ModelOptions, ok: (v: unknown) => boolean, what: string): T => {
    const v = value[key];
    if (!ok(v)) throw new Error(`${path}: options.${key} must be ${what}, got ${JSON.stringify(v)}`);
    return v as T;
  };
  const isNum = (v: unknown) => typeof v === 'number';
  const isBool = (v: unknown) => typeof v === 'boolean';
  const options: ModelOptions = {
    ctxDim: field('ctxDim', isNum, 'a number'),
    locations: field('locations', isNum, 'a number'),
    dim: field('dim', isNum, 'a number'),
    dimOut: field('dimOut', isNum, 'a number'),
    nActions: field('nActions', isNum, 'a number'),
    nLayersAtt: field('nLayersAtt', isNum, 'a number'),
    nLayersOut: field('nLayersOut', isNum, 'a number'),
    nLayersInit: field('nLayersInit', isNum, 'a number'),
    selector: field('selector', isBool, 'a boolean'),
    ctx2out: field('ctx2out', isBool, 'a boolean'),
    temperatureInverse: field('temperatureInverse', isNum, 'a number'),
    useDropout: field('useDropout', isBool, 'a boolean'),
    multilabel: field('multilabel', isBool, 'a boolean'),
    attention: field<AttentionForm>(
      'attention',
      (v) => v === 'reference' || v === 'eq4',
      "'reference' or 'eq4'",
    ),
    lstmLayers: field('lstmLayers', isNum, 'a number'),
    dropout: field<DropoutConvention>(
      'dropout',
      (v) => v === 'inverted' || v === 'non-inverted',
      "'inverted' or 'non-inverted'",
    ),
    // Checkpoints written before the option existed were all initialised as the reference does.
    init:
      value.init === undefined
        ? 'reference'
        : field<ParamInit>('init', isParamInit, "'reference' or 'glorot'"),
  };
  try {
    validateModelOptions(options);
  } catch (e) {
    throw new Error(`${path}: ${(e as Error).message}`);
  }
  return options;
}

function readArray(dataset: Dataset, name: string, path: string): HostArray {
  const shape = dataset.shape;
  const value = dataset.value;
  if (shape === null) throw new Error(`${path}: dataset ${name} has no data`);
  let data: Float32Array;
  if (value instanceof Float32Array) data = value;
  else if (value instanceof Float64Array) data = Float32Array.from(value);
  else
    throw new Error(`${path}: dataset ${name} has type ${JSON.stringify(dataset.dtype)}, expected float32`);
  return { shape: [...shape], data };
}

/** Collects the datasets below `group`, named by their path relative to `prefix`. */
function collectDatasets(h5wasm: H5Wasm, group: Group, prefix: string, path: string, out: NamedArrays): void {
  for (const key of group.keys()) {
    const entity = group.get(key);
    const name = prefix ? `${prefix}/${key}` : key;
    if (entity instanceof h5wasm.Group) collectDatasets(h5wasm, entity, name, path, out);
    else if (entity instanceof h5wasm.Dataset) out.set(name, readArray(entity, name, path));
  }
}

function readOptimizer(h5wasm: H5Wasm, group: Group, path: string): OptimizerState {
  const name = group.attrs['name']?.value;
  const stepValue = group.attrs['step']?.value;
  const step = typeof stepValue === 'number' || typeof stepValue === 'bigint' ? Number(stepValue) : NaN;
  if (typeof name !== 'string' || !Number.isInteger(step) || step < 0) {
    throw new Error(`${path}: group ${OPTIMIZER_GROUP} lacks valid name/step attributes`);
  }
  const slots: NamedArrays = new Map();
  collectDatasets(h5wasm, group, '', path, slots);
  return { name, step, slots };
}

export async function readH5Checkpoint(path: string): Promise<Checkpoint> {
  try {
    await fs.access(path);
  } catch {
    throw new Error(`${path}: no such file`);
  }
  const raw = await withHdf5Errors((h5wasm) => {
    let file: H5File;
    try {
      file = new h5wasm.File(path, 'r');
    } catch (e) {
      throw new Error(`${path}: not a readable HDF5 file (${hdf5Reason(e)})`);
    }
    try {
      const format = file.attrs['glimpse_format']?.value;
      if (format !== GLIMPSE_FORMAT) {
        throw new Error(
          `${path}: not a Glimpse checkpoint (glimpse_format is ${JSON.stringify(format ?? null)}, expected '${GLIMPSE_FORMAT}')`,
        );
      }
      const arrays: NamedArrays = new Map();
      let optimizer: OptimizerState | undefined;
      for (const key of file.keys()) {
        const entity = file.get(key);
        if (key === OPTIMIZER_GROUP && entity instanceof h5wasm.Group)
          optimizer = readOptimizer(h5wasm, entity, path);
        else if (entity instanceof h5wasm.Dataset) arrays.set(key, readArray(entity, key, path));
      }
      return {
        options: readJsonAttribute(file, 'options', path),
        classNames: readJsonAttribute(file, 'class_names', path),
        training: readJsonAttribute(file, 'training', path),
        provenance: readJsonAttribute(file, 'provenance', path),
        // Checkpoints written before the feature spec was recorded have none.
        featureSpec: file.attrs['feature_spec'] ? readJsonAttribute(file, 'feature_spec', path) : null,
        arrays,
        optimizer,
      };
    } catch (e) {
      if (e instanceof Error && e.message.startsWith(`${path}: `)) throw e;
      throw new Error(`${path}: damaged HDF5 checkpoint (${hdf5Reason(e)})`);
    } finally {
      file.close();
    }
  });
  const options = parseModelOptions(raw.options, path);
  const { classNames, training, provenance } = raw;
  if (!Array.isArray(classNames) || !classNames.every((c) => typeof c === 'string')) {
    throw new Error(`${path}: attribute class_names is not a JSON list of strings`);
  }
  if (
    !isRecord(training) ||
    !Object.values(training).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
  ) {
    throw new Error(`${path}: attribute training is not a JSON object of scalars`);
  }
  if (!isRecord(provenance)) throw new Error(`${path}: attribute provenance is not a JSON object`);
  const ckpt: Checkpoint = {
    options,
    params: validatedParameters(raw.arrays, options, path),
    classNames: classNames as string[],
    training: training as Record<string, string | number | boolean>,
    provenance,
    featureSpec: raw.featureSpec === null ? null : parseFeatureSpec(raw.featureSpec, path),
  };
  if (raw.optimizer) ckpt.optimizer = raw.optimizer;
  return ckpt;
}
