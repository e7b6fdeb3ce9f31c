import { PARAM_INITS } from '../../common/options.ts';
import { CancelledError } from '../../common/progress.ts';
import { chooseBackend } from '../../model/backend.ts';
import { OPTIMIZER_NAMES } from '../../model/optimizers.ts';
import { runTraining, type TrainingSpec } from '../workflows/training.ts';
import {
  choiceFlag,
  type Command,
  intFlag,
  numberFlag,
  parseFlags,
  requireFlag,
  UsageError,
} from './command.ts';
import { formatDuration, progressDetail, ProgressLine } from './progress.ts';

const usage = `glimpse train --dataset DIR --out M.h5 [options]

Trains the attention LSTM as the reference does (defaults: the UCF-11 script), keeps the best model by
validation score in M.h5, the last finished epoch in M.resume.h5 and a JSON-lines log in M.log.jsonl.

  --dataset DIR            feature dataset directory (reference layout)
  --train-split S          default train
  --valid-split S          default valid; when that split is absent, 15% of the training videos are held out
                           (whole groups for UCF-11 names v_<name>_<GG>_<CC>, so no group is on both sides)
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
  --init I                 reference (default: 0.01·N(0,1), orthogonal squares, as released) | glorot
                           (PyTorch's default for the same layers, not Xavier's bound: U(±1/√fan_in) for the
                           linear maps and their biases, U(±1/√dim) for the LSTM); recorded in the
                           checkpoint, and --resume keeps the checkpoint's
  --multilabel             sigmoid outputs and BCE; default: detected from the labels file
  --backend B              tensorflow-gpu | tensorflow | onnx | wasm | cpu
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
  init: { type: 'string' },
  multilabel: { type: 'boolean' },
  backend: { type: 'string' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const dataset = requireFlag(v.dataset, 'dataset');
  const out = requireFlag(v.out, 'out');
  if (!/\.h5$/i.test(out))
    throw new UsageError('--out must name a .h5 checkpoint (export to .npz with `glimpse export`)');
  const maxlen = intFlag(v.maxlen, 'maxlen', 30);
  const spec: TrainingSpec = {
    dataset,
    out,
    trainSplit: v['train-split'],
    validSplit: v['valid-split'],
    resume: Boolean(v.resume),
    seed: intFlag(v.seed, 'seed', 1234, 0),
    multilabel: v.multilabel ? true : undefined,
    invokedAs: `glimpse train ${argv.join(' ')}`,
    model: {
      dim: intFlag(v.dim, 'dim', 512),
      dimOut: intFlag(v['dim-out'], 'dim-out', 512),
      nLayersAtt: intFlag(v['n-layers-att'], 'n-layers-att', 1),
      nLayersOut: intFlag(v['n-layers-out'], 'n-layers-out', 1),
      nLayersInit: intFlag(v['n-layers-init'], 'n-layers-init', 1),
      selector: Boolean(v.selector),
      ctx2out: Boolean(v.ctx2out),
      temperatureInverse: numberFlag(v['temperature-inverse'], 'temperature-inverse', 1),
      useDropout: !v['no-dropout'],
      attention: choiceFlag(v.attention, 'attention', ['reference', 'eq4'] as const, 'reference'),
      lstmLayers: intFlag(v['lstm-layers'], 'lstm-layers', 1),
      init: choiceFlag(v.init, 'init', PARAM_INITS, 'reference'),
    },
    settings: {
      maxlen,
      trainingStride: intFlag(v['training-stride'], 'training-stride', 1),
      validStride: intFlag(v['valid-stride'], 'valid-stride', 1),
      lastN: intFlag(v['last-n'], 'last-n', maxlen),
      batchSize: intFlag(v['batch-size'], 'batch-size', 128),
      epochs: intFlag(v.epochs, 'epochs', 15),
      optimizer: choiceFlag(v.optimizer, 'optimizer', OPTIMIZER_NAMES, 'adam-reference'),
      lrate: numberFlag(v.lrate, 'lrate', 1e-4),
      decayC: numberFlag(v['decay-c'], 'decay-c', 1e-5),
      alphaC: numberFlag(v['alpha-c'], 'alpha-c', 0),
      ...(v.workers !== undefined ? { workers: intFlag(v.workers, 'workers', 1) } : {}),
      ...(v['micro-batch'] !== undefined ? { microBatch: intFlag(v['micro-batch'], 'micro-batch', 1) } : {}),
    },
  };

  const backend = await chooseBackend(v.backend);
  process.stderr.write(`backend: ${backend.name}\n`);
  spec.backendName = backend.name;
  const epochs = spec.settings?.epochs ?? 15;
  const progress = new ProgressLine();
  const controller = new AbortController();
  const onSignal = () =>
    controller.abort(
      new CancelledError('interrupted: the last finished epoch is kept; continue with --resume'),
    );
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const outcome = await runTraining(spec, {
      signal: controller.signal,
      log: (line) => process.stderr.write(`${line}\n`),
      onProgress: (p, detail) => {
        if (detail.kind === 'batch')
          progress.update(
            `epoch ${detail.epoch + 1}/${epochs}`,
            (detail.batch + 1) / detail.batches,
            progressDetail(p),
          );
        else if (detail.kind === 'epoch') progress.done(`${p.message} in ${formatDuration(detail.seconds)}`);
      },
    });
    process.stdout.write(
      `best validation ${(outcome.bestScore * 100).toFixed(2)}% at epoch ${outcome.bestEpoch} → ${out}\n`,
    );
    return 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

export const trainCommand: Command = {
  name: 'train',
  summary: 'train the attention LSTM on a feature dataset',
  usage,
  run,
};
