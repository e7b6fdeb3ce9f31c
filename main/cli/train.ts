import { appendFileSync, existsSync, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import seedrandom from 'seedrandom';
import { chooseBackend } from '../../model/backend.ts';
import { openSplit, type FeatureSplit } from '../../model/data/split.ts';
import { AttentionModel } from '../../model/model.ts';
import { readCheckpoint } from '../../model/checkpoint/index.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../../model/options.ts';
import { OPTIMIZER_NAMES } from '../../model/optimizers.ts';
import { defaultWorkerCount } from '../../model/parallel/pool.ts';
import {
  resumePath,
  train,
  type TrainData,
  type TrainProgress,
  type TrainSettings,
} from '../../model/train.ts';
import {
  choiceFlag,
  type Command,
  intFlag,
  numberFlag,
  parseFlags,
  requireFlag,
  UsageError,
} from './command.ts';
import { formatDuration, ProgressLine } from './progress.ts';

const usage = `glimpse train --dataset DIR --out M.h5 [options]

Trains the attention LSTM as the reference does (defaults: the UCF-11 script), keeps the best model by
validation score in M.h5, the last finished epoch in M.resume.h5 and a JSON-lines log in M.log.jsonl.

  --dataset DIR            feature dataset directory (reference layout)
  --train-split S          default train
  --valid-split S          default valid; when that split is absent, 15% of the training videos are held out
  --out M.h5               best-by-validation checkpoint (written atomically each time it improves)
  --resume                 continue from M.resume.h5 (the last finished epoch)
  --epochs N               default 15
  --batch-size N           clips per update, default 128
  --micro-batch N          clips per forward/backward pass (gradients are summed), default: fits the heap
  --workers N              worker threads running micro-batches in parallel on wasm/cpu (same numbers as 1),
                           default: 2 where there are 2 cores
  --seed N                 initialisation, shuffling and dropout; default 1234
  --optimizer O            adam-reference (default; fixed 2e-4, as released) | adam | sgd
  --lrate X                learning rate for adam and sgd, default 1e-4
  --decay-c X              weight decay on all parameters, default 1e-5
  --alpha-c X              doubly stochastic attention penalty (code units = 49 × paper λ), default 0
  --maxlen N               steps per clip, default 30
  --last-n N               steps used for clip predictions in validation, default 30
  --training-stride N      frames between training windows, default 1 (every window)
  --valid-stride N         frames between validation windows, default 1
  --dim N  --dim-out N     LSTM and output hidden sizes, default 512 and 512
  --n-layers-att N  --n-layers-out N  --n-layers-init N   default 1 each
  --selector  --ctx2out    reference options, off by default
  --temperature-inverse X  default 1
  --no-dropout             train without dropout (the reference uses 0.5)
  --attention A            reference (MLP over h and x, default) | eq4 (the paper's Eq. 4, from h only)
  --lstm-layers N          stacked LSTM layers, default 1 (the released code)
  --multilabel             sigmoid outputs and BCE; default: detected from the labels file
  --backend B              tensorflow-gpu | tensorflow | wasm | cpu
`;

const FLAGS = {
  dataset: { type: 'string' },
  'train-split': { type: 'string' },
  'valid-split': { type: 'string' },
  out: { type: 'string' },
  resume: { type: 'boolean' },
  epochs: { type: 'string' },
  'batch-size': { type: 'string' },
  'micro-batch': { type: 'string' },
  workers: { type: 'string' },
  seed: { type: 'string' },
  optimizer: { type: 'string' },
  lrate: { type: 'string' },
  'decay-c': { type: 'string' },
  'alpha-c': { type: 'string' },
  maxlen: { type: 'string' },
  'last-n': { type: 'string' },
  'training-stride': { type: 'string' },
  'valid-stride': { type: 'string' },
  dim: { type: 'string' },
  'dim-out': { type: 'string' },
  'n-layers-att': { type: 'string' },
  'n-layers-out': { type: 'string' },
  'n-layers-init': { type: 'string' },
  selector: { type: 'boolean' },
  ctx2out: { type: 'boolean' },
  'temperature-inverse': { type: 'string' },
  'no-dropout': { type: 'boolean' },
  attention: { type: 'string' },
  'lstm-layers': { type: 'string' },
  multilabel: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

/** Share of training videos held out for validation when the dataset has no validation split (issue #13). */
const HOLD_OUT = 0.15;

function holdOut(split: FeatureSplit, seed: number): { train: number[]; valid: number[] } {
  const rng = seedrandom.alea(`${seed}/hold-out`);
  const indices = split.videos.map((v) => v.index);
  for (let i = indices.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [indices[i], indices[j]] = [indices[j], indices[i]];
  }
  const nValid = Math.max(1, Math.round(indices.length * HOLD_OUT));
  return {
    valid: indices.slice(0, nValid).sort((a, b) => a - b),
    train: indices.slice(nValid).sort((a, b) => a - b),
  };
}

/** Clips per forward pass that keep activations within about 1 GB (the wasm heap stops at 4 GB). */
function defaultMicroBatch(maxlen: number, o: ModelOptions): number {
  const bytesPerClip = maxlen * o.locations * o.ctxDim * 4 * 10;
  return Math.max(1, Math.min(64, Math.floor(1e9 / bytesPerClip)));
}

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const datasetDir = requireFlag(v.dataset, 'dataset');
  const out = requireFlag(v.out, 'out');
  if (!/\.h5$/i.test(out))
    throw new UsageError('--out must name a .h5 checkpoint (export to .npz with `glimpse export`)');
  const trainName = v['train-split'] ?? 'train';
  const validName = v['valid-split'] ?? 'valid';
  const seed = intFlag(v.seed, 'seed', 1234, 0);

  const backend = await chooseBackend(v.backend);
  process.stderr.write(`backend: ${backend.name}\n`);
  const trainSplit = await openSplit(datasetDir, trainName, { multilabel: v.multilabel ? true : undefined });
  const multilabel = trainSplit.multilabel;
  const nActions = trainSplit.nClasses;

  let options: ModelOptions = {
    ...DEFAULT_MODEL_OPTIONS,
    ctxDim: trainSplit.D,
    locations: trainSplit.L,
    dim: intFlag(v.dim, 'dim', 512),
    dimOut: intFlag(v['dim-out'], 'dim-out', 512),
    nActions,
    nLayersAtt: intFlag(v['n-layers-att'], 'n-layers-att', 1),
    nLayersOut: intFlag(v['n-layers-out'], 'n-layers-out', 1),
    nLayersInit: intFlag(v['n-layers-init'], 'n-layers-init', 1),
    selector: Boolean(v.selector),
    ctx2out: Boolean(v.ctx2out),
    temperatureInverse: numberFlag(v['temperature-inverse'], 'temperature-inverse', 1),
    useDropout: !v['no-dropout'],
    multilabel,
    attention: choiceFlag(v.attention, 'attention', ['reference', 'eq4'] as const, 'reference'),
    lstmLayers: intFlag(v['lstm-layers'], 'lstm-layers', 1),
    dropout: 'inverted',
  };
  const maxlen = intFlag(v.maxlen, 'maxlen', 30);
  const settings: TrainSettings = {
    maxlen,
    trainingStride: intFlag(v['training-stride'], 'training-stride', 1),
    validStride: intFlag(v['valid-stride'], 'valid-stride', 1),
    lastN: intFlag(v['last-n'], 'last-n', maxlen),
    batchSize: intFlag(v['batch-size'], 'batch-size', 128),
    microBatch: 0,
    epochs: intFlag(v.epochs, 'epochs', 15),
    optimizer: choiceFlag(v.optimizer, 'optimizer', OPTIMIZER_NAMES, 'adam-reference'),
    lrate: numberFlag(v.lrate, 'lrate', 1e-4),
    decayC: numberFlag(v['decay-c'], 'decay-c', 1e-5),
    alphaC: numberFlag(v['alpha-c'], 'alpha-c', 0),
    seed,
  };
  settings.workers = intFlag(v.workers, 'workers', defaultWorkerCount(settings.batchSize));
  // Enough micro-batches per update that every worker has one.
  settings.microBatch = Math.min(
    Math.ceil(settings.batchSize / settings.workers),
    intFlag(v['micro-batch'], 'micro-batch', defaultMicroBatch(maxlen, options)),
  );

  const statePath = resumePath(out);
  const resumeFrom = v.resume && existsSync(statePath) ? await readCheckpoint(statePath) : null;
  // A resumed run keeps the structure it started with.
  if (resumeFrom) options = resumeFrom.options;
  const validExists = existsSync(`${datasetDir}/${validName}_features.h5`);
  let data: TrainData;
  if (validExists) {
    const valid = await openSplit(datasetDir, validName, {
      locations: options.locations,
      ctxDim: options.ctxDim,
      multilabel,
      nClasses: nActions,
    });
    data = {
      train: trainSplit,
      trainVideos: trainSplit.videos.map((x) => x.index),
      valid,
      validVideos: valid.videos.map((x) => x.index),
      classNames: [...trainSplit.classNames],
    };
  } else {
    const parts = holdOut(trainSplit, seed);
    process.stderr.write(
      `no ${validName} split in ${datasetDir}: holding out ${parts.valid.length} of ${trainSplit.videos.length} training videos for validation\n`,
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
  const logPath = out.replace(/\.h5$/i, '') + '.log.jsonl';
  const log = (entry: object) =>
    appendFileSync(logPath, JSON.stringify({ time: new Date().toISOString(), ...entry }) + '\n');
  log({
    kind: 'start',
    options,
    settings,
    backend: backend.name,
    dataset: datasetDir,
    resume: Boolean(v.resume),
  });
  const model = AttentionModel.initialise(options, seed);
  const progress = new ProgressLine();
  const controller = new AbortController();
  const onSignal = () =>
    controller.abort(new Error('interrupted: the last finished epoch is kept; continue with --resume'));
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await train(
      model,
      data,
      settings,
      out,
      resumeFrom,
      {
        signal: controller.signal,
        onProgress: (p: TrainProgress) => {
          if (p.kind === 'batch') {
            progress.update(
              `epoch ${p.epoch + 1}/${settings.epochs}`,
              (p.batch + 1) / p.batches,
              `loss ${p.loss.toFixed(3)} ${p.clipsPerS.toFixed(1)} clips/s ETA ${formatDuration(p.etaS)}`,
            );
            if (p.batch % 10 === 0 || p.batch === p.batches - 1) log(p);
          } else {
            if (p.kind === 'epoch') {
              progress.done(
                `epoch ${p.epoch}/${settings.epochs}: mean batch loss ${p.trainLoss.toFixed(3)}, validation ${(p.validScore * 100).toFixed(2)}%${p.best ? ' (best, saved)' : ''} in ${formatDuration(p.seconds)}`,
              );
            } else {
              process.stderr.write(`resuming after epoch ${p.epoch}\n`);
            }
            log(p);
          }
        },
      },
      {
        dataset: datasetDir,
        trainSplit: trainName,
        validSplit: validExists ? validName : `${trainName} (15% held out)`,
        backend: backend.name,
        started: new Date().toISOString(),
      },
    );
    log({ kind: 'done', ...outcome });
    process.stdout.write(
      `best validation ${(outcome.bestScore * 100).toFixed(2)}% at epoch ${outcome.bestEpoch} → ${out}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    model.dispose();
  }
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train the attention LSTM on a feature dataset',
  usage,
  run,
};
