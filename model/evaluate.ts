/**
 * Runs a model over every clip of a split and turns per-step outputs into clip, video and dataset results
 * (the `predict` / `evaluate` results JSON of DESIGN.md). Clip batches run in this thread or on a worker pool,
 * several at once; either way every batch is the same and results are taken in batch order, so both give the
 * same numbers.
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Clip, type ClipBatch, enumerateClips, readClipBatch } from './data/clips.ts';
import type { FeatureSplit } from './data/split.ts';
import {
  classificationMetrics,
  clipPrediction,
  clipScores,
  majorityVote,
  meanOf,
  multilabelMetrics,
  type ClassificationMetrics,
  type MultilabelMetrics,
} from '../common/metrics.ts';
import {
  AttentionSummer,
  clipAttention,
  type ClipAttention,
  type VideoAttention,
} from '../common/attention-stats.ts';
import type { AttentionModel } from './model.ts';
import { poolBackend, WorkerPool } from './parallel/pool.ts';

export interface EvaluationSettings {
  maxlen: number;
  stride: number;
  lastN: number;
  /** Clips per forward pass. */
  batchSize: number;
  /** Keep per-step probabilities and attention in the results (large for big splits). */
  keepSteps: boolean;
  /** Sum each video's attention statistics (mean map, coverage, entropy) as its clips come: compact. */
  attention?: boolean;
  /** Evaluate only these videos (indices into split.videos); all when omitted. */
  videoIndices?: readonly number[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
  /** Run the clip batches on this pool (given the model's parameters first) instead of this thread. */
  pool?: WorkerPool | null;
  /**
   * Without a pool: run on a pool of this many workers, started and closed here, where the backend is one
   * workers can run (onnx, wasm, cpu); 1 or unset: this thread.
   */
  workers?: number;
}

export interface ClipResult {
  start: number;
  probs?: number[][];
  alpha?: number[][];
}

export interface VideoResult {
  index: number;
  file: string;
  label: number | number[];
  prediction?: number;
  scores: number[];
  clips: ClipResult[];
  attention?: VideoAttention;
}

export interface EvaluationResult {
  videos: VideoResult[];
  metrics: Partial<ClassificationMetrics & MultilabelMetrics>;
}

export function clipsOf(
  split: FeatureSplit,
  settings: Pick<EvaluationSettings, 'maxlen' | 'stride' | 'videoIndices'>,
): Clip[] {
  const clips = enumerateClips(split, settings.maxlen, settings.stride);
  if (!settings.videoIndices) return clips;
  const wanted = new Set(settings.videoIndices);
  return clips.filter((c) => wanted.has(c.video));
}

/** A batch's per-step outputs, step-major as the network returns them: probs (T, B, C), alphas (T, B, L). */
interface StepOutputs {
  probs: Float32Array;
  alphas: Float32Array;
}

async function runHere(model: AttentionModel, block: ClipBatch): Promise<StepOutputs> {
  const [probs, alphas] = tf.tidy(() => {
    const out = model.run(tf.tensor4d(block.x, [block.T, block.B, block.L, block.D]), false);
    return [out.probs, out.alphas];
  });
  try {
    const [p, a] = await Promise.all([probs.data(), alphas.data()]);
    return { probs: p as Float32Array, alphas: a as Float32Array };
  } finally {
    tf.dispose([probs, alphas]);
  }
}

/** Clip b's steps of a step-major (T, B, width) array, as [T][width]. */
function stepsOf(flat: Float32Array, T: number, B: number, b: number, width: number): number[][] {
  return Array.from({ length: T }, (_, t) =>
    Array.from(flat.subarray((t * B + b) * width, (t * B + b + 1) * width)),
  );
}

/** The pool to evaluate on, and whether this call owns it (started it, so closes it). */
async function evaluationPool(
  model: AttentionModel,
  settings: EvaluationSettings,
): Promise<{ pool: WorkerPool | null; owned: boolean }> {
  if (settings.pool) return { pool: settings.pool, owned: false };
  const backend = poolBackend(tf.getBackend());
  const workers = settings.workers ?? 1;
  if (workers <= 1 || !backend) return { pool: null, owned: false };
  const params = await model.parameters();
  return { pool: await WorkerPool.start({ workers, backend, options: model.options, params }), owned: true };
}

/** One clip's outcome, in clip order: what video and split results are assembled from. */
export interface ClipOutcome {
  video: number;
  clip: ClipResult;
  /** Per-class clip score (mean of the last n steps). */
  score: number[];
  /** Single-label: the clip's predicted class; -1 for multi-label. */
  prediction: number;
  /** What the clip adds to its video's attention statistics (when `settings.attention`). */
  attention?: ClipAttention;
}

export async function evaluateSplit(
  model: AttentionModel,
  split: FeatureSplit,
  settings: EvaluationSettings,
): Promise<EvaluationResult> {
  const outcomes = await evaluateClips(model, split, clipsOf(split, settings), settings);
  return assembleResults(split.videos, model.options, outcomes);
}

/**
 * Runs `clips` (a run of clipsOf's list; a run that starts at a multiple of batchSize makes the very batches
 * the whole split makes, so a split evaluated in runs on several machines gives the same numbers).
 */
export async function evaluateClips(
  model: AttentionModel,
  split: FeatureSplit,
  clips: readonly Clip[],
  settings: EvaluationSettings,
): Promise<ClipOutcome[]> {
  const { multilabel, nActions, locations } = model.options;
  const outcomes: ClipOutcome[] = [];

  const absorb = (batch: readonly Clip[], out: StepOutputs, T: number): void => {
    const B = batch.length;
    batch.forEach((clip, b) => {
      const steps = stepsOf(out.probs, T, B, b, nActions);
      const single = multilabel ? null : clipPrediction(steps, settings.lastN);
      const score = single
        ? single.summed.map((s) => s / Math.min(settings.lastN, steps.length))
        : clipScores(steps, settings.lastN);
      const result: ClipResult = { start: clip.start };
      if (settings.keepSteps) {
        result.probs = steps;
        result.alpha = stepsOf(out.alphas, T, B, b, locations);
      }
      outcomes.push({
        video: clip.video,
        clip: result,
        score,
        prediction: single ? single.prediction : -1,
        ...(settings.attention ? { attention: clipAttention(out.alphas, T, B, b, locations) } : {}),
      });
    });
  };

  const { pool, owned } = await evaluationPool(model, settings);
  // Batches in flight, oldest first: one in this thread, one per worker on a pool.
  const queue: { batch: Clip[]; T: number; out: Promise<StepOutputs> }[] = [];
  let done = 0;
  const takeOldest = async (): Promise<void> => {
    const head = queue.shift();
    if (!head) return;
    absorb(head.batch, await head.out, head.T);
    done += head.batch.length;
    settings.onProgress?.(done, clips.length);
  };
  try {
    if (pool && !owned) await pool.setParameters(model.variables);
    const depth = pool ? pool.size : 1;
    for (let first = 0; first < clips.length; first += settings.batchSize) {
      settings.signal?.throwIfAborted();
      const batch = clips.slice(first, first + settings.batchSize);
      const block = readClipBatch(split, batch, settings.maxlen);
      const out = pool ? pool.infer(block.x, [block.T, block.B, block.L, block.D]) : runHere(model, block);
      // Failures surface when the batch is taken; until then keep them from being unhandled.
      out.catch(() => undefined);
      queue.push({ batch, T: block.T, out });
      if (queue.length >= depth) await takeOldest();
    }
    while (queue.length > 0) await takeOldest();
  } finally {
    // Nothing left running on the workers (or the backend) once this returns or throws.
    await Promise.allSettled(queue.map((q) => q.out));
    if (owned) await pool?.close();
  }
  return outcomes;
}

/** Video results (majority vote or mean scores, attention statistics) and metrics from clip outcomes in clip order. */
export function assembleResults(
  videos: readonly { file: string; label: number | number[] }[],
  options: Pick<AttentionModel['options'], 'multilabel' | 'nActions' | 'locations'>,
  outcomes: readonly ClipOutcome[],
): EvaluationResult {
  const { multilabel, nActions, locations } = options;
  const perVideo = new Map<number, ClipOutcome[]>();
  for (const o of outcomes) {
    const list = perVideo.get(o.video) ?? [];
    list.push(o);
    perVideo.set(o.video, list);
  }
  const results: VideoResult[] = [];
  for (const [index, list] of [...perVideo.entries()].sort((a, b) => a[0] - b[0])) {
    const video = videos[index];
    const entry: VideoResult = {
      index,
      file: video.file,
      label: video.label,
      scores: meanOf(list.map((c) => c.score)),
      clips: list.map((c) => c.clip),
    };
    if (list.some((c) => c.attention)) {
      const summer = new AttentionSummer(locations);
      for (const c of list) if (c.attention) summer.add(c.attention);
      entry.attention = summer.result();
    }
    if (!multilabel)
      entry.prediction = majorityVote(
        list.map((c) => c.prediction),
        nActions,
      );
    results.push(entry);
  }
  const metrics = multilabel
    ? multilabelMetrics(
        results.map((v) => v.label as number[]),
        results.map((v) => v.scores),
      )
    : classificationMetrics(
        results.map((v) => v.label as number),
        results.map((v) => v.prediction as number),
        nActions,
      );
  return { videos: results, metrics };
}

/** The number model selection maximises: video accuracy, or mAP for multi-label models. */
export function selectionScore(result: EvaluationResult): number {
  return result.metrics.mAP ?? result.metrics.accuracy ?? 0;
}
