/**
 * Inspect on the engine's thread: plan the request (model defaults, which features, which backbone),
 * answer from the workspace cache when the result is there, compute it on a warm task thread when the
 * features are at hand, or say that a job must extract them first (a raw video seen for the first time).
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { contentHash } from '../media/proxy.ts';
import { featuresHash } from '../workflows/inspect-video.ts';
import type { InspectRequest, InspectResult, VideoSummary } from './api.ts';
import { videosDirOf } from './datasets.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';
import { InspectCache, inspectKey } from './inspect-cache.ts';
import { openPlanSplit, rowsOfSplitVideo, sourceTag, type InspectPlan } from './inspect-task.ts';
import { backboneCtxDim, backboneSpecOf, openModelFile, type OpenedModel } from './models.ts';
import { TaskThread } from './task-thread.ts';
import type { VideoLibrary } from './videos.ts';
import type { Workspace } from './workspace.ts';

export interface PlannedInspect {
  plan: InspectPlan;
  model: OpenedModel;
  /** The video whose frames the result is drawn on, or null (a dataset without its videos). */
  videoPath: string | null;
  /** A raw video whose features the workspace does not hold yet: a job must extract them. */
  needsExtraction: boolean;
  /** What an inspect job writes, so two jobs never make the same features at once. */
  output: string;
}

function fileStamp(file: string): string {
  const s = statSync(file);
  return `${path.resolve(file)}|${s.size}|${s.mtimeMs}`;
}

export class Inspector {
  private readonly models = new Map<string, OpenedModel>();
  private readonly hashes = new Map<string, { hash: string; tag: string }>();
  private readonly cache: InspectCache;
  private thread: TaskThread | null = null;
  private computing: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly workspace: Workspace,
    private readonly videos: VideoLibrary,
    private readonly backend: string,
  ) {
    this.cache = new InspectCache(workspace.cacheDir('inspect'));
  }

  /** The checkpoint, parsed once per file version. */
  async model(file: string): Promise<OpenedModel> {
    if (!existsSync(file)) throw new GlimpseError('not-found', `${file}: file not found`, file);
    const stamp = fileStamp(file);
    let opened = this.models.get(stamp);
    if (!opened) {
      opened = await openModelFile(file);
      this.models.set(stamp, opened);
    }
    return opened;
  }

  async plan(request: InspectRequest): Promise<PlannedInspect> {
    const modelPath = path.resolve(request.model);
    const model = await this.model(modelPath);
    const { defaults, featureSpec, matchingBackbones } = model.summary;
    const maxlen = request.maxlen ?? defaults.maxlen;
    const stride = request.stride ?? (request.maxlen !== undefined ? maxlen : defaults.stride);
    const lastN = Math.min(request.lastN ?? defaults.lastN, maxlen);
    const base = {
      model: modelPath,
      modelHash: model.summary.hash,
      maxlen,
      stride,
      lastN,
      cacheDir: this.cache.dir,
    };
    const { source } = request;
    if (source.kind === 'dataset') {
      const dir = path.resolve(source.dir);
      using split = await openPlanSplit({ kind: 'dataset', dir, split: source.split, index: source.index });
      const video = split.videos[source.index];
      if (!video)
        throw new GlimpseError(
          'not-found',
          `${split.featuresPath}: no video ${source.index} (the split has ${split.videos.length})`,
          split.featuresPath,
        );
      const videosDir = videosDirOf(split.info);
      const candidate = videosDir && video.file ? path.join(videosDir, video.file) : null;
      const videoPath = candidate && existsSync(candidate) ? candidate : null;
      return {
        plan: { ...base, source: { kind: 'dataset', dir, split: source.split, index: source.index } },
        model,
        videoPath,
        needsExtraction: false,
        output: `inspect:${dir}|${source.split}|${source.index}|${model.summary.hash}`,
      };
    }
    const videoPath = path.resolve(source.path);
    if (!existsSync(videoPath))
      throw new GlimpseError('not-found', `${videoPath}: file not found`, videoPath);
    const ctxDim = model.checkpoint.options.ctxDim;
    const backbone = featureSpec ? backboneSpecOf(featureSpec.backbone) : request.backbone;
    if (!backbone)
      throw new GlimpseError(
        'mismatch',
        `${modelPath}: the model records no feature spec; choose a backbone (presets with D=${ctxDim}: ${matchingBackbones.join(', ') || 'none'})`,
        modelPath,
      );
    const d = backboneCtxDim(backbone);
    if (d !== null && d !== ctxDim)
      throw new GlimpseError(
        'mismatch',
        `${modelPath}: the model reads D=${ctxDim} features, backbone ${backbone} gives D=${d} (presets with D=${ctxDim}: ${matchingBackbones.join(', ') || 'none'})`,
        modelPath,
      );
    const fps = featureSpec?.fps ?? 30;
    const videoHash = await aboutFile(videoPath, () => contentHash(videoPath));
    const featuresKey = createHash('sha256')
      .update(`${videoHash}|${backbone}|${fps}`)
      .digest('hex')
      .slice(0, 40);
    const featuresDir = path.join(this.workspace.cacheDir('features'), featuresKey);
    return {
      plan: { ...base, source: { kind: 'video', path: videoPath, featuresDir, backbone, fps } },
      model,
      videoPath,
      needsExtraction: !existsSync(featuresDir),
      output: `inspect:${featuresDir}|${model.summary.hash}`,
    };
  }

  /** The cache key of a planned result when the cache holds it, else null. */
  async cachedKey(planned: PlannedInspect): Promise<string | null> {
    if (planned.needsExtraction) return null;
    const { plan } = planned;
    using split = await openPlanSplit(plan.source);
    const index = plan.source.kind === 'dataset' ? plan.source.index : 0;
    const memo = `${fileStamp(split.featuresPath)}|${index}`;
    let found = this.hashes.get(memo);
    if (!found) {
      const isDataset = plan.source.kind === 'dataset';
      const video = rowsOfSplitVideo(split, index, planned.model.checkpoint.options, plan.model, isDataset);
      found = { hash: featuresHash(video.rows), tag: sourceTag(plan.source, video) };
      this.hashes.set(memo, found);
    }
    const key = inspectKey(plan.modelHash, found.hash, plan, found.tag);
    return this.cache.has(key) ? key : null;
  }

  /** Computes a planned result whose features are at hand, on the warm task thread (one at a time). */
  compute(planned: PlannedInspect): Promise<string> {
    const run = this.computing.then(async () => {
      if (!this.thread?.alive) this.thread = new TaskThread(this.backend);
      const result = await this.thread.run({ kind: 'inspect', plan: planned.plan });
      return String(result.key);
    });
    this.computing = run.catch(() => {});
    return run;
  }

  async result(
    request: InspectRequest,
    planned: PlannedInspect,
    key: string,
    cached: boolean,
  ): Promise<InspectResult> {
    const entry = await this.cache.get(key);
    if (!entry)
      throw new GlimpseError('internal', `inspect result ${key} is missing from the workspace cache`);
    const { meta } = entry;
    let video: VideoSummary | null = null;
    if (planned.videoPath) {
      const opening = this.videos.open(planned.videoPath, meta.fps);
      // A dataset's source video is a convenience: without it the numbers still stand.
      video = planned.plan.source.kind === 'video' ? await opening : await opening.catch(() => null);
    }
    return {
      request,
      modelHash: meta.modelHash,
      featuresHash: meta.featuresHash,
      classNames: meta.classNames,
      multilabel: meta.multilabel,
      grid: meta.grid,
      locations: meta.locations,
      fps: meta.fps,
      frames: meta.frames,
      maxlen: meta.maxlen,
      stride: meta.stride,
      lastN: meta.lastN,
      backbone: meta.backbone,
      backend: this.backend,
      label: meta.label,
      prediction: meta.prediction,
      scores: meta.scores,
      clips: entry.clips,
      video,
      cached,
    };
  }

  async close(): Promise<void> {
    await this.thread?.stop();
    this.thread = null;
  }
}
