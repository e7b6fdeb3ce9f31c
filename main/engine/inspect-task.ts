/**
 * Computing an inspect result (in a worker thread, never on the thread that answers API calls): a dataset
 * video's rows, or a raw video's features (extracted first with the model's backbone when the workspace
 * has none), the model over its clips, the entry written to the inspect cache.
 */
import { existsSync } from 'node:fs';
import type { Progress } from '../../common/progress.ts';
import { readCheckpoint } from '../../model/checkpoint/index.ts';
import { openSplit, type FeatureSplit } from '../../model/data/split.ts';
import { AttentionModel } from '../../model/model.ts';
import { loadBackbone } from '../features/backbone.ts';
import { VIDEO_SPLIT, writeVideoFeatures } from '../features/video-features.ts';
import { featuresHash, inspectVideoRows } from '../workflows/inspect-video.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';
import { InspectCache, inspectKey, type InspectSettingsKey } from './inspect-cache.ts';

export type InspectPlanSource =
  | { kind: 'dataset'; dir: string; split: string; index: number }
  | { kind: 'video'; path: string; featuresDir: string; backbone: string; fps: number };

/** Everything a worker needs to compute one inspect result into the cache. */
export interface InspectPlan extends InspectSettingsKey {
  model: string;
  modelHash: string;
  source: InspectPlanSource;
  cacheDir: string;
}

export interface VideoRows {
  rows: Float32Array;
  frames: number;
  L: number;
  D: number;
  fps: number;
  backbone: string;
  label: number | number[] | null;
  /** The features file, for messages. */
  file: string;
}

/** Reads one video's rows from an open split, checking them against the model's L, D and class count. */
export function rowsOfSplitVideo(
  split: FeatureSplit,
  index: number,
  model: { locations: number; ctxDim: number; nActions: number },
  modelFile: string,
  isDatasetVideo: boolean,
): VideoRows {
  const file = split.featuresPath;
  if (split.L !== model.locations || split.D !== model.ctxDim)
    throw new GlimpseError(
      'mismatch',
      `${modelFile}: the model reads L=${model.locations} × D=${model.ctxDim} features, ${file} has L=${split.L} × D=${split.D}`,
      file,
    );
  if (isDatasetVideo && split.classNames.length > 0 && split.nClasses !== model.nActions)
    throw new GlimpseError(
      'mismatch',
      `${modelFile}: the model has ${model.nActions} classes, ${split.dir} has ${split.nClasses}`,
      split.dir,
    );
  const video = split.videos[index];
  if (!video)
    throw new GlimpseError(
      'not-found',
      `${file}: no video ${index} (the split has ${split.videos.length})`,
      file,
    );
  return {
    rows: split.readRows(video.firstRow, video.frames),
    frames: video.frames,
    L: split.L,
    D: split.D,
    fps: split.info?.fps ?? 30,
    backbone: split.info?.backbone ?? 'unknown',
    label: isDatasetVideo ? video.label : null,
    file,
  };
}

/** What the rows are, beyond their values: part of the cache key and of the cached result. */
export function sourceTag(source: InspectPlanSource, video: Pick<VideoRows, 'label' | 'backbone'>): string {
  return source.kind === 'video'
    ? `video|${source.backbone}`
    : `dataset|${JSON.stringify(video.label)}|${video.backbone}`;
}

/** The split that holds the plan's rows (a one-video feature folder for raw videos). */
export function openPlanSplit(source: InspectPlanSource): Promise<FeatureSplit> {
  const [dir, split] =
    source.kind === 'dataset' ? [source.dir, source.split] : [source.featuresDir, VIDEO_SPLIT];
  return aboutFile(dir, () => openSplit(dir, split));
}

export interface InspectHooks {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** Extracts a raw video's features with the plan's backbone into the workspace's features folder. */
async function extractPlanFeatures(
  plan: InspectPlan,
  source: InspectPlanSource & { kind: 'video' },
  options: { locations: number; ctxDim: number },
  hooks: InspectHooks,
): Promise<void> {
  using backbone = await aboutFile(source.path, () => loadBackbone(source.backbone));
  if (backbone.D !== options.ctxDim || backbone.L !== options.locations)
    throw new GlimpseError(
      'mismatch',
      `${plan.model}: the model reads L=${options.locations} × D=${options.ctxDim} features, backbone ${source.backbone} gives L=${backbone.L} × D=${backbone.D}`,
      plan.model,
    );
  await aboutFile(source.path, () =>
    writeVideoFeatures(source.path, backbone, source.featuresDir, {
      fps: source.fps,
      backboneSpec: source.backbone,
      signal: hooks.signal,
      onProgress: (p) => hooks.onProgress?.({ ...p, fraction: p.fraction * 0.9 }),
    }),
  );
}

/** The plan's video rows, checked against the model. */
async function planRows(
  plan: InspectPlan,
  options: { locations: number; ctxDim: number; nActions: number },
): Promise<VideoRows> {
  const { source } = plan;
  using split = await openPlanSplit(source);
  const isDataset = source.kind === 'dataset';
  return rowsOfSplitVideo(split, isDataset ? source.index : 0, options, plan.model, isDataset);
}

/** Computes the plan's result into the cache (unless it is there already) and returns its key. */
export async function runInspectPlan(plan: InspectPlan, hooks: InspectHooks = {}): Promise<string> {
  const { source } = plan;
  const checkpoint = await aboutFile(plan.model, () => readCheckpoint(plan.model));
  const extracting = source.kind === 'video' && !existsSync(source.featuresDir);
  if (source.kind === 'video' && extracting)
    await extractPlanFeatures(plan, source, checkpoint.options, hooks);
  const video = await planRows(plan, checkpoint.options);
  const hash = featuresHash(video.rows);
  const key = inspectKey(plan.modelHash, hash, plan, sourceTag(source, video));
  const cache = new InspectCache(plan.cacheDir);
  if (cache.has(key)) return key;
  using model = AttentionModel.fromParameters(checkpoint.options, checkpoint.params);
  {
    const inspection = await inspectVideoRows(
      model,
      video.rows,
      video.frames,
      {
        maxlen: plan.maxlen,
        stride: plan.stride,
        lastN: plan.lastN,
        signal: hooks.signal,
        onProgress: (p) =>
          hooks.onProgress?.({ ...p, fraction: extracting ? 0.9 + 0.1 * p.fraction : p.fraction }),
      },
      video.file,
    );
    const { options } = model;
    await cache.put(key, {
      meta: {
        version: 1,
        modelHash: plan.modelHash,
        featuresHash: hash,
        maxlen: plan.maxlen,
        stride: plan.stride,
        lastN: plan.lastN,
        classNames: checkpoint.classNames,
        multilabel: options.multilabel,
        grid: Math.round(Math.sqrt(options.locations)),
        locations: options.locations,
        nClasses: options.nActions,
        fps: video.fps,
        frames: video.frames,
        backbone: source.kind === 'video' ? source.backbone : video.backbone,
        label: video.label,
        prediction: inspection.prediction,
        scores: inspection.scores,
        clips: inspection.clips.map((c) => ({ start: c.start, steps: c.steps, prediction: c.prediction })),
      },
      clips: inspection.clips.map((c) => ({
        start: c.start,
        steps: c.steps,
        probs: c.probs,
        alpha: c.alpha,
        prediction: c.prediction,
      })),
    });
  }
  return key;
}
