/**
 * Runs a model over every clip of a split and turns per-step outputs into clip, video and dataset results
 * (the `predict` / `evaluate` results JSON of DESIGN.md).
 */
import * as tf from '@tensorflow/tfjs-core';
import { type Clip, enumerateClips, readClipBatch } from './data/clips.ts';
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
} from './metrics.ts';
import type { AttentionModel } from './model.ts';

export interface EvaluationSettings {
  maxlen: number;
  stride: number;
  lastN: number;
  /** Clips per forward pass. */
  batchSize: number;
  /** Keep per-step probabilities and attention in the results (large for big splits). */
  keepSteps: boolean;
  /** Evaluate only these videos (indices into split.videos); all when omitted. */
  videoIndices?: readonly number[];
  signal?: AbortSignal;
  onProgress?: (done: number, total: number) => void;
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

export async function evaluateSplit(
  model: AttentionModel,
  split: FeatureSplit,
  settings: EvaluationSettings,
): Promise<EvaluationResult> {
  const { multilabel, nActions } = model.options;
  const clips = clipsOf(split, settings);
  const perVideo = new Map<number, { clip: ClipResult; score: number[]; prediction: number }[]>();
  for (let first = 0; first < clips.length; first += settings.batchSize) {
    settings.signal?.throwIfAborted();
    const batch = clips.slice(first, first + settings.batchSize);
    const block = readClipBatch(split, batch, settings.maxlen);
    const [probs, alphas] = tf.tidy(() => {
      const x = tf.tensor4d(block.x, [block.T, block.B, block.L, block.D]);
      const out = model.run(x, false);
      // (B, T, ·) so each clip's steps are contiguous.
      return [tf.transpose(out.probs, [1, 0, 2]), tf.transpose(out.alphas, [1, 0, 2])];
    });
    const probsByClip = (await probs.array()) as number[][][];
    const alphaByClip = settings.keepSteps ? ((await alphas.array()) as number[][][]) : null;
    probs.dispose();
    alphas.dispose();
    batch.forEach((clip, b) => {
      const steps = probsByClip[b];
      const single = multilabel ? null : clipPrediction(steps, settings.lastN);
      const score = single
        ? single.summed.map((s) => s / Math.min(settings.lastN, steps.length))
        : clipScores(steps, settings.lastN);
      const result: ClipResult = { start: clip.start };
      if (alphaByClip) {
        result.probs = steps;
        result.alpha = alphaByClip[b];
      }
      const list = perVideo.get(clip.video) ?? [];
      list.push({ clip: result, score, prediction: single ? single.prediction : -1 });
      perVideo.set(clip.video, list);
    });
    settings.onProgress?.(Math.min(first + batch.length, clips.length), clips.length);
  }

  const videos: VideoResult[] = [];
  for (const [index, list] of [...perVideo.entries()].sort((a, b) => a[0] - b[0])) {
    const video = split.videos[index];
    const entry: VideoResult = {
      index,
      file: video.file,
      label: video.label,
      scores: meanOf(list.map((c) => c.score)),
      clips: list.map((c) => c.clip),
    };
    if (!multilabel)
      entry.prediction = majorityVote(
        list.map((c) => c.prediction),
        nActions,
      );
    videos.push(entry);
  }
  const metrics = multilabel
    ? multilabelMetrics(
        videos.map((v) => v.label as number[]),
        videos.map((v) => v.scores),
      )
    : classificationMetrics(
        videos.map((v) => v.label as number),
        videos.map((v) => v.prediction as number),
        nActions,
      );
  return { videos, metrics };
}

/** The number model selection maximises: video accuracy, or mAP for multi-label models. */
export function selectionScore(result: EvaluationResult): number {
  return result.metrics.mAP ?? result.metrics.accuracy ?? 0;
}
