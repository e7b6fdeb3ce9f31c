/** `glimpse extract`: a folder of videos → a feature dataset directory (reference layout). */
import { chooseBackend } from '../../model/backend.ts';
import { DATASET_KINDS, type DatasetLoadOptions } from '../datasets/kinds.ts';
import { BACKBONE_PRESETS, loadBackbone } from '../features/backbone.ts';
import { EXTRACT_REPORT, extractFeatures } from '../features/extract.ts';
import {
  choiceFlag,
  type Command,
  intFlag,
  numberFlag,
  parseFlags,
  requireFlag,
  UsageError,
} from './command.ts';
import { progressDetail, ProgressLine } from './progress.ts';

const presets = Object.entries(BACKBONE_PRESETS)
  .map(([name, p]) => `                         ${name.padEnd(18)} ${p.map} (needs internet once)`)
  .join('\n');

const usage = `glimpse extract --videos DIR --dataset-kind KIND --out DIR [options]

Decodes every video of the dataset (whole frame resized to the backbone's input, no crop), runs the CNN
backbone and appends one row of L·D features per frame to {split}_features.h5, with the reference text
files, classes.txt, dataset.json and extract-report.json. Decoding runs ahead while the CNN works.
Running the same command again continues an interrupted extraction where it stopped.
Videos that fail to decode are listed in extract-report.json with the reason and left out; videos shorter
than one clip are extracted (they give one clip, padded with their last frame) and listed as short.

  --videos DIR           the dataset folder as downloaded
  --dataset-kind KIND    ${DATASET_KINDS.join(' | ')}
  --out DIR              feature dataset directory
  --backbone B           builtin (default: small, offline, for the synthetic set and demos), a folder
                         with a TF.js model.json, an http(s) URL of one (cached), or a preset:
${presets}
  --node NAME            layer or graph node whose output is the K×K×D map (default: the backbone's)
  --input-size N         square input side when the model leaves it open (default: the backbone's, else 224)
  --mean X  --scale X    preprocessing (pixel − mean) × scale (default: the backbone's, else 0 and 1/255)
  --fps N                decoded frames per second (default 30, as the reference)
  --batch N              frames per CNN batch (default 16)
  --clip-length N        videos with fewer frames are reported as short (default 30, the reference maxlen)
  --compression C        none (default) | gzip
  --seed S               split seed (folders, synth, validation hold-outs)
  --fold N               UCF-11: leave-one-group-out fold 1..25 (default: the fixed split)
  --hmdb-split N         HMDB-51: official split 1..3 (default 1)
  --splits-dir DIR       HMDB-51: folder of the official split files
  --valid-fraction X     share of train held out for validation (ucf11, hmdb51, hollywood2)
  --overwrite            start afresh even if --out holds features made differently
  --cache-dir DIR        where downloaded backbones are kept (default ~/.cache/glimpse)
  --backend B            tensorflow-gpu | tensorflow | onnx | wasm | cpu (default: the fastest that loads)
  --queue URL            redis://HOST:PORT[/DB]: split the videos into jobs for 'glimpse worker's on other
                         machines (--out must be a folder they all see at the same path); the splits are
                         the same bytes as without --queue. Running it again resumes from complete shards.
  --videos-per-job N     with --queue: videos per job (default 4)
`;

const FLAGS = {
  videos: { type: 'string' },
  'dataset-kind': { type: 'string' },
  out: { type: 'string' },
  backbone: { type: 'string' },
  node: { type: 'string' },
  'input-size': { type: 'string' },
  mean: { type: 'string' },
  scale: { type: 'string' },
  fps: { type: 'string' },
  batch: { type: 'string' },
  'clip-length': { type: 'string' },
  compression: { type: 'string' },
  seed: { type: 'string' },
  fold: { type: 'string' },
  'hmdb-split': { type: 'string' },
  'splits-dir': { type: 'string' },
  'valid-fraction': { type: 'string' },
  overwrite: { type: 'boolean' },
  'cache-dir': { type: 'string' },
  backend: { type: 'string' },
  queue: { type: 'string' },
  'videos-per-job': { type: 'string' },
} as const;

function optionalNumber(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number, got '${value}'`);
  return n;
}

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const videosDir = requireFlag(v.videos, 'videos');
  const kind = choiceFlag(
    requireFlag(v['dataset-kind'], 'dataset-kind'),
    'dataset-kind',
    DATASET_KINDS,
    'folders',
  );
  const outDir = requireFlag(v.out, 'out');
  const fps = numberFlag(v.fps, 'fps', 30, Number.MIN_VALUE);
  const batch = intFlag(v.batch, 'batch', 16);
  const clipLength = intFlag(v['clip-length'], 'clip-length', 30);
  const compression = choiceFlag(v.compression, 'compression', ['none', 'gzip'] as const, 'none');
  const dataset: DatasetLoadOptions = {};
  if (v.seed !== undefined) dataset.seed = v.seed;
  if (v.fold !== undefined) dataset.fold = intFlag(v.fold, 'fold', 1);
  if (v['hmdb-split'] !== undefined) dataset.split = intFlag(v['hmdb-split'], 'hmdb-split', 1);
  if (v['splits-dir'] !== undefined) dataset.splitsDir = v['splits-dir'];
  if (v['valid-fraction'] !== undefined)
    dataset.validFraction = numberFlag(v['valid-fraction'], 'valid-fraction', 0.15);

  const backend = await chooseBackend(v.backend);
  process.stderr.write(`backend: ${backend.name}\n`);
  using backbone = await loadBackbone(v.backbone ?? 'builtin', {
    node: v.node,
    inputSize: v['input-size'] === undefined ? undefined : intFlag(v['input-size'], 'input-size', 224),
    mean: optionalNumber(v.mean, 'mean'),
    scale: optionalNumber(v.scale, 'scale'),
    cacheDir: v['cache-dir'],
  });
  process.stderr.write(
    `backbone: ${backbone.id}, input ${backbone.inputSize}×${backbone.inputSize}, map ${backbone.K}×${backbone.K}×${backbone.D}\n`,
  );
  const progress = new ProgressLine();
  const common = {
    videosDir,
    kind,
    outDir,
    backbone,
    fps,
    batch,
    clipLength,
    dataset,
    compression,
    overwrite: Boolean(v.overwrite),
    invokedAs: ['glimpse', 'extract', ...argv].join(' '),
    log: (line: string) => {
      progress.done();
      process.stderr.write(`${line}\n`);
    },
  };
  let report;
  try {
    if (v.queue !== undefined) {
      const { runQueuedExtraction } = await import('../queue/extraction.ts');
      report = await runQueuedExtraction(
        {
          ...common,
          queue: v.queue,
          backboneSpec: { spec: v.backbone ?? 'builtin', ...(v.node ? { node: v.node } : {}) },
          videosPerJob: intFlag(v['videos-per-job'], 'videos-per-job', 4),
        },
        { log: common.log, onProgress: (p) => progress.update('queue', p.fraction, progressDetail(p)) },
      );
    } else {
      report = await extractFeatures({
        ...common,
        onProgress: (p, detail) => progress.update(detail.split, p.fraction, progressDetail(p)),
      });
    }
  } finally {
    progress.done();
  }
  const frames = Object.values(report.splits).reduce((n, s) => n + s.frames, 0);
  const videos = Object.values(report.splits).reduce((n, s) => n + s.extracted, 0);
  process.stdout.write(
    `${videos} videos, ${frames} frames (${report.run.framesPerS.toFixed(1)} frames/s this run), ` +
      `${report.failed.length} failed, ${report.short.length} short → ${outDir} (see ${EXTRACT_REPORT})\n`,
  );
  return 0;
}

export const extractCommand: Command = {
  name: 'extract',
  summary: 'CNN features of a video dataset, in the reference layout',
  usage,
  run,
};
