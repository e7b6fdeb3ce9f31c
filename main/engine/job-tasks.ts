/**
 * What each job kind does, inside a task worker thread: the same library calls as the CLI (extraction,
 * training, evaluation, export) plus inspect, the overlay exports and the demo. Returns the job's result.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { Progress } from '../../common/progress.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { readCheckpoint, writeCheckpoint } from '../../model/checkpoint/index.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../../common/options.ts';
import type { TrainSettings } from '../../model/train.ts';
import { generateSynthDataset, SYNTH_DESCRIPTION_FILE } from '../datasets/synth.ts';
import { loadBackbone } from '../features/backbone.ts';
import { extractFeatures } from '../features/extract.ts';
import { probeVideo } from '../media/probe.ts';
import { runTraining, type TrainingSpec } from '../workflows/training.ts';
import type { JobSpec, JsonValue, QueueJobStatus } from './api.ts';
import { listDatasetVideos } from './datasets.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';
import { runEvaluateTask } from './evaluations.ts';
import { defaultFilmstripRows, writeFilmstrip, writeOverlayVideo } from './exports.ts';
import { InspectCache, type InspectEntry } from './inspect-cache.ts';
import { runInspectPlan } from './inspect-task.ts';
import { runImportJob } from './dataset-views.ts';
import { queuedExtraction } from './queue-jobs.ts';
import type { JobContext, TaskResult } from './task-protocol.ts';

export interface JobHooks {
  signal?: AbortSignal;
  /** `queue`: with each event of a queued job (extract or evaluate with `queue`). */
  onProgress: (p: Progress, queue?: QueueJobStatus) => void;
}

/** Progress of a part of a job, mapped onto [from, to] of the whole. */
function part(hooks: JobHooks, from: number, to: number, label: string): (p: Progress) => void {
  return (p) =>
    hooks.onProgress({ ...p, fraction: from + (to - from) * p.fraction, message: `${label}: ${p.message}` });
}

async function extract(
  spec: {
    videosDir: string;
    datasetKind: string;
    outDir: string;
    backbone?: string;
    fps?: number;
    queue?: string;
  },
  signal: AbortSignal | undefined,
  onProgress: JobHooks['onProgress'],
): Promise<TaskResult> {
  const backbone = await aboutFile(spec.backbone ?? 'builtin', () =>
    loadBackbone(spec.backbone ?? 'builtin'),
  );
  const { queue } = spec;
  try {
    const report = await aboutFile(spec.videosDir, () =>
      queue !== undefined
        ? queuedExtraction({ ...spec, queue }, backbone, signal, onProgress)
        : extractFeatures({
            videosDir: spec.videosDir,
            kind: spec.datasetKind,
            outDir: spec.outDir,
            backbone,
            fps: spec.fps,
            invokedAs: 'glimpse engine: extract job',
            signal,
            onProgress: (p, detail) => onProgress({ ...p, message: `${detail.split}: ${p.message}` }),
          }),
    );
    return {
      outDir: report.outDir,
      complete: report.complete,
      failed: report.failed.length,
      frames: report.run.frames,
    };
  } finally {
    backbone.dispose();
  }
}

const MODEL_KEYS = new Set(Object.keys(DEFAULT_MODEL_OPTIONS));
const SETTING_KEYS = new Set([
  'maxlen',
  'trainingStride',
  'validStride',
  'lastN',
  'batchSize',
  'microBatch',
  'workers',
  'epochs',
  'optimizer',
  'lrate',
  'decayC',
  'alphaC',
]);

/** A train job's settings object split into model options, training settings and the run's own fields. */
export function trainingSpecOf(
  dataset: string,
  out: string,
  settings: { [key: string]: JsonValue },
  resume: boolean,
): TrainingSpec {
  const model: Record<string, JsonValue> = {};
  const train: Record<string, JsonValue> = {};
  const spec: TrainingSpec = { dataset, out, resume, invokedAs: 'glimpse engine: train job' };
  for (const [key, value] of Object.entries(settings)) {
    if (MODEL_KEYS.has(key)) model[key] = value;
    else if (SETTING_KEYS.has(key)) train[key] = value;
    else if (key === 'seed' && typeof value === 'number') spec.seed = value;
    else if ((key === 'trainSplit' || key === 'validSplit') && typeof value === 'string') spec[key] = value;
    else if (key === 'multilabel' && typeof value === 'boolean') spec.multilabel = value;
    else throw new GlimpseError('bad-request', `train: unknown setting ${JSON.stringify(key)}`);
  }
  spec.model = model as Partial<ModelOptions>;
  spec.settings = train as Partial<TrainSettings>;
  return spec;
}

async function trainJob(
  spec: TrainingSpec,
  hooks: JobHooks,
  onProgress = hooks.onProgress,
): Promise<TaskResult> {
  const outcome = await aboutFile(spec.dataset, () =>
    runTraining(spec, { signal: hooks.signal, onProgress: (p) => onProgress(p) }),
  );
  return {
    out: outcome.out,
    resumePath: outcome.resumePath,
    logPath: outcome.logPath,
    bestEpoch: outcome.bestEpoch,
    bestScore: outcome.bestScore,
    epochsRun: outcome.epochsRun,
  };
}

async function inspectEntry(
  context: JobContext,
  hooks: JobHooks,
  onProgress = hooks.onProgress,
): Promise<InspectEntry> {
  const plan = context.inspect;
  if (!plan) throw new GlimpseError('internal', 'inspect plan missing');
  const key = await runInspectPlan(plan, { signal: hooks.signal, onProgress });
  const entry = await new InspectCache(plan.cacheDir).get(key);
  if (!entry) throw new GlimpseError('internal', `inspect result ${key} is missing from the cache`);
  return entry;
}

function sourceVideo(context: JobContext): string {
  if (!context.videoPath)
    throw new GlimpseError(
      'not-found',
      'this dataset video has no source video on disk to draw the overlay on',
    );
  return context.videoPath;
}

/** The demo, as `npm run demo` makes it: synthetic actions → built-in features → a small trained model. */
export const DEMO_SETTINGS: { [key: string]: JsonValue } = {
  dim: 32,
  dimOut: 32,
  maxlen: 16,
  lastN: 16,
  trainingStride: 2,
  validStride: 8,
  optimizer: 'adam',
  lrate: 0.005,
  batchSize: 16,
  epochs: 40,
  useDropout: false,
  ctx2out: true,
  seed: 3,
};

export const DEMO_FILE = 'demo.json';

async function demo(context: JobContext, hooks: JobHooks): Promise<TaskResult> {
  const dir = context.demoDir;
  const videos = path.join(dir, 'videos');
  const features = path.join(dir, 'features');
  const model = path.join(dir, 'model.h5');
  await mkdir(dir, { recursive: true });
  if (!existsSync(path.join(videos, SYNTH_DESCRIPTION_FILE))) {
    hooks.onProgress({
      fraction: 0,
      rate: null,
      rateUnit: 'videos/s',
      eta: null,
      message: 'making synthetic videos',
    });
    await generateSynthDataset(videos, { seed: 1, videos: 20 });
  }
  await extract(
    { videosDir: videos, datasetKind: 'synth', outDir: features },
    hooks.signal,
    part(hooks, 0.1, 0.4, 'extract'),
  );
  // GLIMPSE_DEMO_EPOCHS shortens training, for tests that need a demo quickly (the model is then weaker).
  const epochs = Number(process.env.GLIMPSE_DEMO_EPOCHS ?? DEMO_SETTINGS.epochs);
  const settings = { ...DEMO_SETTINGS, epochs: Number.isInteger(epochs) && epochs > 0 ? epochs : 40 };
  await trainJob(trainingSpecOf(features, model, settings, true), hooks, part(hooks, 0.4, 1, 'train'));
  const test = await listDatasetVideos(features, 'test');
  const first = test.find((v) => v.videoPath) ?? test[0];
  const result = {
    model,
    dataset: features,
    split: 'test',
    index: first.index,
    video: first.videoPath ?? '',
  };
  await writeFileAtomic(path.join(dir, DEMO_FILE), JSON.stringify(result, null, 2) + '\n');
  return result;
}

export function defaultExportPath(context: JobContext, stem: string, ext: string): string {
  return path.join(context.exportsDir, `${stem}-${context.id}.${ext}`);
}

export async function runJobTask(spec: JobSpec, context: JobContext, hooks: JobHooks): Promise<TaskResult> {
  const { signal, onProgress } = hooks;
  switch (spec.kind) {
    case 'extract':
      return extract(spec, signal, onProgress);
    case 'train':
      return trainJob(
        {
          ...trainingSpecOf(spec.dataset, spec.out, spec.settings, context.resume || spec.resume === true),
          keepEpochs: spec.keepEpochs === true,
        },
        hooks,
      );
    case 'evaluate': {
      if (!context.evaluationsDir)
        throw new GlimpseError('internal', 'evaluate job without its reports folder');
      const { exportsDir, evaluationsDir } = context;
      return runEvaluateTask(spec, { id: context.id, exportsDir, evaluationsDir }, hooks);
    }
    case 'export-npz': {
      if (!/\.npz$/i.test(spec.out))
        throw new GlimpseError('bad-request', `${spec.out}: an npz export must end in .npz`, spec.out);
      const ckpt = await aboutFile(spec.model, () => readCheckpoint(spec.model));
      await aboutFile(spec.out, () => writeCheckpoint(spec.out, ckpt));
      onProgress({ fraction: 1, rate: null, rateUnit: 'files/s', eta: null, message: 'written' });
      return { path: spec.out };
    }
    case 'inspect': {
      await inspectEntry(context, hooks);
      return { inspected: true };
    }
    case 'export-filmstrip':
    case 'export-video': {
      const entry = await inspectEntry(context, hooks, part(hooks, 0, 0.5, 'inspect'));
      const video = sourceVideo(context);
      const info = await aboutFile(video, () => probeVideo(video, { countFrames: false }));
      const stem = path.basename(video, path.extname(video));
      await mkdir(context.exportsDir, { recursive: true });
      if (spec.kind === 'export-filmstrip') {
        const out = spec.out ?? defaultExportPath(context, `${stem}-filmstrip`, 'png');
        const rows = spec.frames ?? defaultFilmstripRows(entry);
        const made = await aboutFile(video, () =>
          writeFilmstrip(entry, video, info, spec.overlay, rows, out, {
            signal,
            onProgress: part(hooks, 0.5, 1, 'filmstrip'),
          }),
        );
        return { path: out, rows: made.rows, width: made.width, height: made.height };
      }
      const out = spec.out ?? defaultExportPath(context, `${stem}-overlay`, spec.format);
      const started = performance.now();
      const made = await aboutFile(video, () =>
        writeOverlayVideo(entry, video, info, spec.overlay, spec.format, out, {
          signal,
          onProgress: part(hooks, 0.5, 1, 'video'),
        }),
      );
      const seconds = (performance.now() - started) / 1000;
      return { path: out, frames: made.frames, framesPerS: made.frames / seconds };
    }
    case 'demo':
      return demo(context, hooks);
    case 'import':
      return runImportJob(spec, hooks);
  }
}
