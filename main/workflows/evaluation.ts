/**
 * A model run over a split as every front end asks for it (`predict`, `evaluate`, an engine job): the
 * checkpoint's own protocol as defaults, optional attention-on-actor against ground-truth boxes, and the
 * report object the CLI writes (DESIGN.md "Results"). The backend is chosen by the caller before.
 */
import * as tf from '@tensorflow/tfjs-core';
import { asCancelled, etaFrom, type Progress } from '../../common/progress.ts';
import { readCheckpoint, type Checkpoint } from '../../model/checkpoint/index.ts';
import { openSplit, type FeatureSplit } from '../../model/data/split.ts';
import {
  evaluateSplit,
  type EvaluationResult,
  type EvaluationSettings,
  type VideoResult,
} from '../../model/evaluate.ts';
import { AttentionModel } from '../../model/model.ts';
import { defaultWorkerCount } from '../../model/parallel/pool.ts';
import type { ModelOptions } from '../../common/options.ts';
import { classAttention, type ClassAttention } from '../../common/attention-stats.ts';
import { attentionOnActor, type AttentionOnActor } from '../features/attention-boxes.ts';
import type { PairedStatistics } from '../../common/paired-stats.ts';
import { pairedStatistics } from './paired-evaluation.ts';

export interface EvaluationSpec {
  /** Checkpoint: our .h5, or a reference .npz with its .npz.pkl beside it. */
  model: string;
  /** Feature dataset directory. */
  dataset: string;
  split: string;
  /** Clip stride in frames; default 1 (the reference evaluation). */
  stride?: number;
  /** Default: the checkpoint's last_n, else maxlen. */
  lastN?: number;
  /** Default: the checkpoint's maxlen, else 30. */
  maxlen?: number;
  /** Clips per forward pass, default 32. */
  batchSize?: number;
  /** Treat the model as multi-label (sigmoid outputs, mAP). */
  multilabel?: boolean;
  /** Keep per-step probabilities and attention in the report; default false. */
  keepSteps?: boolean;
  /** Videos folder with `<video>.boxes.json`: adds metrics.attentionOnActor. */
  boxes?: string;
  /** The backend the caller chose, for the report; default tfjs's current one. */
  backendName?: string;
  /** Worker threads for the clip batches (wasm/cpu backends); default one per core, at most two. */
  workers?: number;
  /** Per-video and per-class attention statistics (mean map, coverage, entropy); default true. */
  attention?: boolean;
  /** A second checkpoint run on the same split and stride: adds `comparison` (paired statistics). */
  compare?: string;
}

/**
 * Runs the model over the split's clips: evaluateSplit in this process by default; the queue's coordinator
 * (main/queue) hands the clips to workers instead. `modelPath` is the checkpoint being evaluated.
 */
export type SplitEvaluator = (
  modelPath: string,
  model: AttentionModel,
  split: FeatureSplit,
  settings: EvaluationSettings,
) => Promise<EvaluationResult>;

export interface EvaluationHooks {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
  evaluateSplit?: SplitEvaluator;
}

/** A checkpoint and a split of a feature dataset, opened for each other (one-line errors on a mismatch). */
export async function openForEvaluation(
  modelPath: string,
  dataset: string,
  splitName: string,
  multilabel: boolean,
): Promise<{ checkpoint: Checkpoint; model: AttentionModel; split: FeatureSplit }> {
  const checkpoint = await readCheckpoint(modelPath);
  if (multilabel) checkpoint.options = { ...checkpoint.options, multilabel: true };
  const model = AttentionModel.fromParameters(checkpoint.options, checkpoint.params);
  try {
    const split = await openSplit(dataset, splitName, {
      locations: model.options.locations,
      ctxDim: model.options.ctxDim,
      multilabel: model.options.multilabel,
      nClasses: model.options.nActions,
    });
    return { checkpoint, model, split };
  } catch (err) {
    model.dispose();
    throw err;
  }
}

/** Exactly the JSON object `glimpse predict` / `glimpse evaluate` write. */
export interface EvaluationReport {
  model: { path: string; options: ModelOptions; classNames: string[]; backend: string };
  dataset: { dir: string; split: string };
  settings: { maxlen: number; stride: number; lastN: number };
  videos: VideoResult[];
  metrics: EvaluationResult['metrics'] & { attentionOnActor?: AttentionOnActor };
  /** Per class: the mean attention statistics of its videos (when `attention`). */
  classAttention?: ClassAttention[];
  /** With `compare`: the second model's report (without its own comparison) and the paired statistics. */
  comparison?: { report: EvaluationReport; paired: PairedStatistics };
}

function trainingNumber(training: Record<string, unknown>, key: string): number | undefined {
  const v = training[key];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

function checkCount(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 1)
    throw new Error(`evaluation setting ${name} must be an integer ≥ 1, got ${value}`);
  return value;
}

export async function runEvaluation(
  spec: EvaluationSpec,
  hooks: EvaluationHooks = {},
): Promise<EvaluationReport> {
  if (spec.compare === undefined) return evaluateOne(spec, hooks);
  const half = (from: number, label: string) => (p: Progress) =>
    hooks.onProgress?.({ ...p, fraction: from + p.fraction / 2, message: `${label}: ${p.message}` });
  const a = await evaluateOne(spec, { ...hooks, onProgress: half(0, 'model A') });
  const b = await evaluateOne(
    { ...spec, model: spec.compare },
    { ...hooks, onProgress: half(0.5, 'model B') },
  );
  const side = (r: EvaluationReport, file: string) => ({
    path: file,
    videos: r.videos,
    perClass: r.metrics.ap ?? r.metrics.perClassAccuracy ?? [],
    multilabel: r.model.options.multilabel,
  });
  return {
    ...a,
    comparison: { report: b, paired: pairedStatistics(side(a, spec.model), side(b, spec.compare)) },
  };
}

async function evaluateOne(spec: EvaluationSpec, hooks: EvaluationHooks): Promise<EvaluationReport> {
  const stride = checkCount('stride', spec.stride ?? 1);
  const batchSize = checkCount('batchSize', spec.batchSize ?? 32);
  const keepSteps = spec.keepSteps ?? false;
  const backendName = spec.backendName ?? tf.getBackend();
  const opened = await openForEvaluation(spec.model, spec.dataset, spec.split, Boolean(spec.multilabel));
  const { checkpoint } = opened;
  using model = opened.model;
  using split = opened.split;
  const maxlen = checkCount('maxlen', spec.maxlen ?? trainingNumber(checkpoint.training, 'maxlen') ?? 30);
  const lastN = checkCount('lastN', spec.lastN ?? trainingNumber(checkpoint.training, 'last_n') ?? maxlen);
  const started = performance.now();
  let result: EvaluationResult;
  try {
    result = await (hooks.evaluateSplit ?? ((_, m, sp, set) => evaluateSplit(m, sp, set)))(
      spec.model,
      model,
      split,
      {
        maxlen,
        stride,
        lastN,
        batchSize,
        workers: spec.workers ?? defaultWorkerCount(batchSize),
        // Attention on the actor needs every step's attention; the report keeps it only when asked to.
        keepSteps: keepSteps || spec.boxes !== undefined,
        attention: spec.attention ?? true,
        signal: hooks.signal,
        onProgress: (done, total) => {
          const rate = done / ((performance.now() - started) / 1000);
          hooks.onProgress?.({
            fraction: done / total,
            rate,
            rateUnit: 'clips/s',
            eta: etaFrom(total - done, rate),
            message: `${done}/${total} clips`,
          });
        },
      },
    );
  } catch (err) {
    if (hooks.signal?.aborted) throw asCancelled(hooks.signal.reason);
    throw err;
  }
  let metrics: EvaluationReport['metrics'] = result.metrics;
  if (spec.boxes !== undefined) {
    const onActor = await attentionOnActor(
      result.videos.map((v) => ({
        file: v.file,
        frames: split.videos[v.index].frames,
        clips: v.clips.map((c) => ({ start: c.start, alpha: c.alpha ?? [] })),
      })),
      { boxesDir: spec.boxes, locations: model.options.locations, featureFps: split.info?.fps },
    );
    metrics = { ...metrics, attentionOnActor: onActor };
    if (!keepSteps) {
      for (const clip of result.videos.flatMap((v) => v.clips)) {
        delete clip.probs;
        delete clip.alpha;
      }
    }
  }
  const classNames = checkpoint.classNames.length > 0 ? checkpoint.classNames : [...split.classNames];
  return {
    model: { path: spec.model, options: model.options, classNames, backend: backendName },
    dataset: { dir: spec.dataset, split: spec.split },
    settings: { maxlen, stride, lastN },
    videos: result.videos,
    metrics,
    ...((spec.attention ?? true)
      ? { classAttention: classAttention(result.videos, model.options.nActions) }
      : {}),
  };
}
