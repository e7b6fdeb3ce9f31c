/**
 * The Compare view's state and data: its address (DESIGN.md "Addressable state":
 * `#/compare?models=M1,M2[,M3]&video=FILE` or `...&dataset=DIR&split=S&index=I` `[&frame=N]`, plus the
 * pair shown as a difference when there are three), and each model's steps laid on the shared frame clock
 * (the feature row), so models of different maxlen / stride line up by frame and gaps stay gaps.
 */
import type { InspectResult, InspectSource } from '../../../main/engine/api.ts';
import {
  argmax,
  attentionDifference,
  disagreementRuns,
  jsTimeline,
  symmetricDisplay,
  type FrameRun,
} from '../../../common/attention-compare.ts';
import { alphaOf, probsOf, stepAt } from './attention.ts';
import { viewHash } from './route.ts';

export const MODEL_LETTERS = ['A', 'B', 'C'] as const;

export interface CompareState {
  models: string[];
  source: InspectSource | null;
  frame: number | null;
  /** Indices into models of the pair shown as α_first − α_second. */
  pair: [number, number];
}

const index = (v: string | undefined): number | null => (v && /^\d+$/.test(v) ? Number(v) : null);

/** Never throws: what cannot be read is left out (at most three models, a valid pair or the first two). */
export function parseCompare(params: Record<string, string>): CompareState {
  const models = (params.models ?? '')
    .split(',')
    .map((m) => m.trim())
    .filter((m) => m !== '')
    .slice(0, 3);
  const i = index(params.index);
  const source: InspectSource | null = params.video
    ? { kind: 'video', path: params.video }
    : params.dataset && params.split && i !== null
      ? { kind: 'dataset', dir: params.dataset, split: params.split, index: i }
      : null;
  const p = (params.pair ?? '').split(',').map((v) => index(v));
  const pair: [number, number] =
    p.length === 2 && p[0] !== null && p[1] !== null && p[0] !== p[1] && Math.max(p[0], p[1]) < models.length
      ? [p[0], p[1]]
      : [0, 1];
  return { models, source, frame: index(params.frame), pair };
}

export function compareHash(state: CompareState): string {
  const s = state.source;
  const params: Record<string, string> = { models: state.models.join(',') };
  if (s?.kind === 'video') params.video = s.path;
  if (s?.kind === 'dataset')
    Object.assign(params, { dataset: s.dir, split: s.split, index: String(s.index) });
  if (state.frame !== null) params.frame = String(state.frame);
  if (state.pair[0] !== 0 || state.pair[1] !== 1) params.pair = state.pair.join(',');
  return viewHash('compare', params);
}

/** One model's steps per frame of the shared clock: α and the step's decision argmax p_t (−1: no step). */
export interface ModelTrack {
  alpha: (Float32Array | null)[];
  decision: Int32Array;
}

/** Each frame shows the first clip that covers it (Inspect's default clip). */
export function trackOf(result: InspectResult, frames: number): ModelTrack {
  const alpha: (Float32Array | null)[] = new Array<Float32Array | null>(frames).fill(null);
  const decision = new Int32Array(frames).fill(-1);
  for (let f = 0; f < Math.min(frames, result.frames); f++) {
    const ref = stepAt(result.clips, f, 0);
    if (!ref) continue;
    alpha[f] = alphaOf(result, ref);
    decision[f] = argmax(probsOf(result, ref));
  }
  return { alpha, decision };
}

export interface PairSeries {
  /** JS divergence of α_A and α_B per frame, in bits (NaN where either has no step). */
  js: Float32Array;
  disagree: FrameRun[];
}

export function pairSeries(a: ModelTrack, b: ModelTrack): PairSeries {
  return { js: jsTimeline(a.alpha, b.alpha), disagree: disagreementRuns(a.decision, b.decision) };
}

/** α_A − α_B at a frame for a diverging colormap (null where either model has no step). */
export function differenceAt(
  a: ModelTrack,
  b: ModelTrack,
  frame: number,
): { values: Float32Array; max: number } | null {
  const p = a.alpha[frame];
  const q = b.alpha[frame];
  return p && q ? symmetricDisplay(attentionDifference(p, q)) : null;
}
