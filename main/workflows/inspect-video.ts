/**
 * A model run over one video's feature rows as Inspect shows it: clips of `maxlen` steps every `stride`
 * rows (default maxlen: non-overlapping) plus, when those leave a tail, one more clip ending at the last
 * row, so every row belongs to a clip; a video shorter than maxlen is one clip (padded with its last row,
 * as evaluation pads it, and reported over its real steps only). Per clip: probs[T·C] and alpha[T·L]; the
 * clip prediction from the last `lastN` steps of the window; the video prediction by majority vote, and
 * the video scores as the mean of clip scores — the same numbers `glimpse predict` gives for its clips.
 */
import { createHash } from 'node:crypto';
import { clipPrediction, clipScores, majorityVote, meanOf } from '../../common/metrics.ts';
import { clipStarts } from '../../common/clips.ts';
import type { FeatureSplit, SplitVideo } from '../../model/data/split.ts';
import { evaluateSplit } from '../../model/evaluate.ts';
import type { AttentionModel } from '../../model/model.ts';
import type { Progress } from '../../common/progress.ts';

export interface InspectSettings {
  maxlen: number;
  /** Rows between clip starts; default maxlen. */
  stride?: number;
  /** Default maxlen. */
  lastN?: number;
  batchSize?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

export interface InspectedClip {
  start: number;
  /** Real steps shown (≤ maxlen). */
  steps: number;
  /** probs[t·C + c]. */
  probs: Float32Array;
  /** alpha[t·L + l], l = row·K + col. */
  alpha: Float32Array;
  /** Single-label clip prediction, else null. */
  prediction: number | null;
  scores: number[];
}

export interface VideoInspection {
  maxlen: number;
  stride: number;
  lastN: number;
  frames: number;
  clips: InspectedClip[];
  prediction: number | null;
  scores: number[];
}

/** Clip starts as Inspect runs them: every `stride` rows, then one ending at the last row if rows are left. */
export function inspectClipStarts(frames: number, maxlen: number, stride: number): number[] {
  const starts = clipStarts(frames, maxlen, stride);
  const last = starts[starts.length - 1];
  if (frames > maxlen && last + maxlen < frames) starts.push(frames - maxlen);
  return starts;
}

/** sha256 of feature rows: what the inspect cache keys a result's input by. */
export function featuresHash(rows: Float32Array): string {
  return createHash('sha256')
    .update(new Uint8Array(rows.buffer, rows.byteOffset, rows.byteLength))
    .digest('hex');
}

/**
 * One video's rows as a split of one video per clip window, so evaluateSplit (the code `predict` runs)
 * computes each clip exactly as it would in the dataset.
 */
class WindowSplit implements FeatureSplit {
  readonly dir = '';
  readonly split = 'inspect';
  readonly featuresPath: string;
  readonly multilabel: boolean;
  readonly nClasses: number;
  readonly videos: readonly SplitVideo[];
  readonly totalFrames: number;
  readonly classNames: readonly string[] = [];
  readonly info = null;

  constructor(
    private readonly rows: Float32Array,
    readonly L: number,
    readonly D: number,
    frames: number,
    starts: readonly number[],
    maxlen: number,
    model: AttentionModel,
    what: string,
  ) {
    this.featuresPath = what;
    this.multilabel = model.options.multilabel;
    this.nClasses = model.options.nActions;
    this.totalFrames = frames;
    // Windows are views of the video's own rows: firstRow is the window start.
    this.videos = starts.map((start, index) => ({
      index,
      file: what,
      frames: Math.min(maxlen, frames - start),
      firstRow: start,
      label: this.multilabel ? new Array<number>(this.nClasses).fill(0) : 0,
    }));
  }

  readRows(start: number, count: number, into?: Float32Array): Float32Array {
    const width = this.L * this.D;
    const view = this.rows.subarray(start * width, (start + count) * width);
    if (!into) return view.slice();
    into.set(view);
    return into;
  }

  close(): void {}

  [Symbol.dispose](): void {}
}

/** Runs `model` over `rows` ((frames, L, D) location-major) and returns what Inspect shows. */
export async function inspectVideoRows(
  model: AttentionModel,
  rows: Float32Array,
  frames: number,
  settings: InspectSettings,
  what = 'video',
): Promise<VideoInspection> {
  const { locations: L, ctxDim: D, nActions: C, multilabel } = model.options;
  if (rows.length !== frames * L * D)
    throw new Error(`${what}: ${rows.length} feature values are not ${frames} rows of L=${L} × D=${D}`);
  if (frames < 1) throw new Error(`${what}: no feature rows`);
  const maxlen = settings.maxlen;
  const stride = settings.stride ?? maxlen;
  const lastN = settings.lastN ?? maxlen;
  const starts = inspectClipStarts(frames, maxlen, stride);
  const split = new WindowSplit(rows, L, D, frames, starts, maxlen, model, what);
  const started = performance.now();
  const result = await evaluateSplit(model, split, {
    maxlen,
    stride: maxlen,
    lastN,
    batchSize: settings.batchSize ?? 32,
    keepSteps: true,
    signal: settings.signal,
    onProgress: (done, total) => {
      const rate = done / Math.max(1e-3, (performance.now() - started) / 1000);
      settings.onProgress?.({
        fraction: done / total,
        rate,
        rateUnit: 'clips/s',
        eta: (total - done) / rate,
        message: `${done}/${total} clips`,
      });
    },
  });
  const clips = result.videos.map((v): InspectedClip => {
    const window = v.clips[0];
    const probs = window.probs ?? [];
    const alpha = window.alpha ?? [];
    const steps = Math.min(maxlen, frames - starts[v.index]);
    const single = multilabel ? null : clipPrediction(probs, lastN);
    return {
      start: starts[v.index],
      steps,
      probs: Float32Array.from(probs.slice(0, steps).flat()),
      alpha: Float32Array.from(alpha.slice(0, steps).flat()),
      prediction: single ? single.prediction : null,
      scores: single ? single.summed.map((s) => s / Math.min(lastN, probs.length)) : clipScores(probs, lastN),
    };
  });
  return {
    maxlen,
    stride,
    lastN,
    frames,
    clips,
    prediction: multilabel
      ? null
      : majorityVote(
          clips.map((c) => c.prediction as number),
          C,
        ),
    scores: meanOf(clips.map((c) => c.scores)),
  };
}
