/**
 * A training run as every front end starts it (CLI, engine job): the options and settings filled in from
 * the data and the reference defaults, the validation split or a hold-out, resume from the last finished
 * epoch, the JSON-lines run log, and progress as the one `Progress` event. The backend is chosen by the
 * caller (`chooseBackend`) before.
 */
import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { asCancelled, type Progress } from '../../common/progress.ts';
import { readCheckpoint } from '../../model/checkpoint/index.ts';
import { openSplit } from '../../model/data/split.ts';
import { AttentionModel } from '../../model/model.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions, validateModelOptions } from '../../common/options.ts';
import { parseOptimizerName } from '../../model/optimizers.ts';
import { defaultWorkerCount } from '../../model/parallel/pool.ts';
import {
  resumePath,
  train,
  type TrainData,
  type TrainOutcome,
  type TrainProgress,
  type TrainSettings,
} from '../../model/train.ts';
import { HOLD_OUT_FRACTION, type HoldOut, holdOutVideos } from './hold-out.ts';

export interface TrainingSpec {
  /** Feature dataset directory (reference layout). */
  dataset: string;
  /** Best-by-validation checkpoint, `.h5`. */
  out: string;
  /** Default 'train'. */
  trainSplit?: string;
  /** Default 'valid'; when absent, 15% of the training videos are held out (whole groups for UCF-11). */
  validSplit?: string;
  /** Continue from `resumePath(out)` when it exists. */
  resume?: boolean;
  /** Default 1234 (settings.seed, when given, is the same thing). */
  seed?: number;
  /** Model structure; L, D, the class count and multilabel always come from the data. */
  model?: Partial<ModelOptions>;
  /** Training settings, including `workers` and `microBatch` (default: sized for the heap and the workers). */
  settings?: Partial<TrainSettings>;
  /** Force multi-label; default: detected from the labels file. */
  multilabel?: boolean;
  /** The backend the caller chose, for the log and the checkpoint's provenance; default tfjs's current one. */
  backendName?: string;
  /** The command line or the job that started the run, for provenance. */
  invokedAs?: string;
  /** Also keep every finished epoch's model, at `epochPathFor(out, epoch)`. */
  keepEpochs?: boolean;
}

export interface TrainingHooks {
  signal?: AbortSignal;
  onProgress?: (p: Progress, detail: TrainProgress) => void;
  /** Human-readable notes (the hold-out taken, the epoch resumed after). */
  log?: (line: string) => void;
}

export interface TrainingOutcome extends TrainOutcome {
  out: string;
  /** The last finished epoch, for resuming. */
  resumePath: string;
  /** The JSON-lines run log. */
  logPath: string;
  /** The videos held out of the training split for validation, or null when a validation split exists. */
  heldOut: HoldOut | null;
}

/** The run log beside the checkpoint: `M.h5` → `M.log.jsonl`. */
export function logPathFor(out: string): string {
  return out.replace(/\.h5$/i, '') + '.log.jsonl';
}

/** Finished epoch `epoch` (1-based) of a run that keeps every epoch: `M.h5` → `M.epoch-003.h5`. */
export function epochPathFor(out: string, epoch: number): string {
  return `${out.replace(/\.h5$/i, '')}.epoch-${String(epoch).padStart(3, '0')}.h5`;
}

/**
 * Aborts when a split file of the dataset is gone (deleted, renamed, unmounted): an open HDF5 file can
 * still be read on some systems, but the run would then train on data the user has removed.
 */
function watchDataset(files: readonly string[], signal: AbortSignal | undefined) {
  const gone = new AbortController();
  return {
    signal: signal ? AbortSignal.any([signal, gone.signal]) : gone.signal,
    check(finishedEpochs: number): void {
      const missing = files.find((f) => !existsSync(f));
      if (!missing || gone.signal.aborted) return;
      const kept =
        finishedEpochs > 0
          ? `the last finished epoch (${finishedEpochs}) is kept: resume once the file is back`
          : 'no epoch had finished';
      gone.abort(new Error(`${missing}: file not found: the dataset disappeared during training; ${kept}`));
    },
    /** The reason the dataset check stopped the run, or null. */
    get error(): Error | null {
      return gone.signal.aborted ? (gone.signal.reason as Error) : null;
    },
  };
}

/** Clips per forward pass that keep activations within about 1 GB (the wasm heap stops at 4 GB). */
export function defaultMicroBatch(maxlen: number, o: Pick<ModelOptions, 'locations' | 'ctxDim'>): number {
  const bytesPerClip = maxlen * o.locations * o.ctxDim * 4 * 10;
  return Math.max(1, Math.min(64, Math.floor(1e9 / bytesPerClip)));
}

function checkInteger(name: string, value: number, min: number): void {
  if (!Number.isInteger(value) || value < min)
    throw new Error(`training setting ${name} must be an integer ≥ ${min}, got ${value}`);
}

function checkNumber(name: string, value: number): void {
  if (!Number.isFinite(value) || value < 0)
    throw new Error(`training setting ${name} must be a number ≥ 0, got ${value}`);
}

/** The reference defaults (the UCF-11 script) under what the caller gave; workers and micro-batch sized. */
export function trainSettingsFrom(
  given: Partial<TrainSettings>,
  seed: number,
  options: Pick<ModelOptions, 'locations' | 'ctxDim'>,
): TrainSettings {
  const maxlen = given.maxlen ?? 30;
  const batchSize = given.batchSize ?? 128;
  const workers = given.workers ?? defaultWorkerCount(batchSize);
  const settings: TrainSettings = {
    maxlen,
    trainingStride: given.trainingStride ?? 1,
    validStride: given.validStride ?? 1,
    lastN: given.lastN ?? maxlen,
    batchSize,
    // Enough micro-batches per update that every worker has one.
    microBatch: Math.min(
      Math.ceil(batchSize / workers),
      given.microBatch ?? defaultMicroBatch(maxlen, options),
    ),
    workers,
    epochs: given.epochs ?? 15,
    optimizer: parseOptimizerName(given.optimizer ?? 'adam-reference'),
    lrate: given.lrate ?? 1e-4,
    decayC: given.decayC ?? 1e-5,
    alphaC: given.alphaC ?? 0,
    seed,
  };
  for (const key of ['maxlen', 'trainingStride', 'validStride', 'lastN', 'batchSize', 'epochs'] as const)
    checkInteger(key, settings[key], 1);
  checkInteger('workers', workers, 1);
  checkInteger('microBatch', settings.microBatch, 1);
  checkInteger('seed', seed, 0);
  for (const key of ['lrate', 'decayC', 'alphaC'] as const) checkNumber(key, settings[key]);
  return settings;
}

function progressOf(p: TrainProgress, epochs: number, last: Progress | null): Progress {
  if (p.kind === 'batch') {
    return {
      fraction: (p.epoch * p.batches + p.batch + 1) / (epochs * p.batches),
      rate: p.clipsPerS,
      rateUnit: 'clips/s',
      eta: p.etaS,
      message: `loss ${p.loss.toFixed(3)}`,
    };
  }
  const message =
    p.kind === 'epoch'
      ? `epoch ${p.epoch}/${epochs}: mean batch loss ${p.trainLoss.toFixed(3)}, validation ${(p.validScore * 100).toFixed(2)}%${p.best ? ' (best, saved)' : ''}`
      : `resuming after epoch ${p.epoch}`;
  return {
    fraction: p.epoch / epochs,
    rate: last?.rate ?? null,
    rateUnit: 'clips/s',
    eta: last?.eta ?? null,
    message,
  };
}

export async function runTraining(spec: TrainingSpec, hooks: TrainingHooks = {}): Promise<TrainingOutcome> {
  const { dataset, out } = spec;
  if (!/\.h5$/i.test(out))
    throw new Error(`${out}: the checkpoint must be a .h5 file (export to .npz with \`glimpse export\`)`);
  const trainName = spec.trainSplit ?? 'train';
  const validName = spec.validSplit ?? 'valid';
  const seed = spec.seed ?? spec.settings?.seed ?? 1234;
  const backendName = spec.backendName ?? tf.getBackend();

  using trainSplit = await openSplit(dataset, trainName, { multilabel: spec.multilabel ? true : undefined });
  const multilabel = trainSplit.multilabel;
  const nActions = trainSplit.nClasses;
  const statePath = resumePath(out);
  const resumeFrom = spec.resume && existsSync(statePath) ? await readCheckpoint(statePath) : null;
  // A resumed run keeps the structure it started with.
  const options: ModelOptions = resumeFrom
    ? resumeFrom.options
    : {
        ...DEFAULT_MODEL_OPTIONS,
        ...spec.model,
        ctxDim: trainSplit.D,
        locations: trainSplit.L,
        nActions,
        multilabel,
        dropout: 'inverted',
      };
  validateModelOptions(options);
  const settings = trainSettingsFrom(spec.settings ?? {}, seed, options);

  using valid = existsSync(`${dataset}/${validName}_features.h5`)
    ? await openSplit(dataset, validName, {
        locations: options.locations,
        ctxDim: options.ctxDim,
        multilabel,
        nClasses: nActions,
      })
    : null;
  let data: TrainData;
  let validDescription = validName;
  let heldOut: HoldOut | null = null;
  if (valid) {
    data = {
      train: trainSplit,
      trainVideos: trainSplit.videos.map((x) => x.index),
      valid,
      validVideos: valid.videos.map((x) => x.index),
      classNames: [...trainSplit.classNames],
    };
  } else {
    const parts = holdOutVideos(trainSplit.videos, seed);
    heldOut = parts;
    const percent = `${Math.round(HOLD_OUT_FRACTION * 100)}%`;
    validDescription =
      parts.unit === 'group'
        ? `${trainName} (${percent} held out by UCF-11 group)`
        : `${trainName} (${percent} held out)`;
    hooks.log?.(
      `no ${validName} split in ${dataset}: holding out ${parts.valid.length} of ${trainSplit.videos.length} training videos${parts.unit === 'group' ? ' (whole UCF-11 groups)' : ''} for validation`,
    );
    data = {
      train: trainSplit,
      trainVideos: parts.train,
      valid: trainSplit,
      validVideos: parts.valid,
      classNames: [...trainSplit.classNames],
    };
  }

  mkdirSync(dirname(out), { recursive: true });
  const logPath = logPathFor(out);
  const writeLog = (entry: object) =>
    appendFileSync(logPath, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  writeLog({
    kind: 'start',
    options,
    settings,
    backend: backendName,
    dataset,
    resume: Boolean(spec.resume),
  });
  using model = AttentionModel.initialise(options, seed);
  let last: Progress | null = null;
  let finishedEpochs = 0;
  const splitFile = (name: string) => `${dataset}/${name}_features.h5`;
  const watch = watchDataset(
    valid ? [splitFile(trainName), splitFile(validName)] : [splitFile(trainName)],
    hooks.signal,
  );
  try {
    const outcome = await train(
      model,
      data,
      settings,
      out,
      resumeFrom,
      {
        signal: watch.signal,
        ...(spec.keepEpochs ? { epochCheckpoint: (epoch: number) => epochPathFor(out, epoch) } : {}),
        onProgress: (p) => {
          if (p.kind !== 'batch') finishedEpochs = p.epoch;
          watch.check(finishedEpochs);
          if (p.kind === 'batch') {
            // Every 10th batch, more often in short epochs, so that a loss curve has points to draw.
            const every = Math.min(10, Math.max(1, Math.floor(p.batches / 20)));
            if (p.batch % every === 0 || p.batch === p.batches - 1) writeLog(p);
          } else {
            writeLog(p);
          }
          const progress = progressOf(p, settings.epochs, last);
          last = progress;
          if (p.kind === 'resume') hooks.log?.(progress.message);
          hooks.onProgress?.(progress, p);
        },
      },
      {
        dataset,
        trainSplit: trainName,
        validSplit: validDescription,
        backend: backendName,
        started: new Date().toISOString(),
        ...(spec.invokedAs !== undefined ? { invokedAs: spec.invokedAs } : {}),
      },
    );
    writeLog({ kind: 'done', ...outcome });
    return { ...outcome, out, resumePath: statePath, logPath, heldOut };
  } catch (err) {
    if (watch.error) {
      writeLog({ kind: 'failed', message: watch.error.message });
      throw watch.error;
    }
    if (hooks.signal?.aborted) throw asCancelled(hooks.signal.reason);
    throw err;
  }
}
