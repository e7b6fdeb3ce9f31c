/**
 * What Inspect derives from an InspectResult: which clip and step a frame is, the attention map of a
 * step normalised for display, and the per-frame series the timeline draws (entropy, centroid, class
 * probabilities, the running decision). Pure functions of the result, no DOM.
 */
import type { InspectClip, InspectResult } from '../../../main/engine/api.ts';
import { attentionCentroid, normalisedEntropy, normaliseMap } from '../../../common/colormaps.ts';

export interface StepRef {
  clip: number;
  step: number;
}

/** The clip and step showing `frame`: the preferred clip when it covers the frame, else the first that does. */
export function stepAt(clips: readonly InspectClip[], frame: number, preferredClip: number): StepRef | null {
  const covers = (c: InspectClip) => frame >= c.start && frame < c.start + c.steps;
  const preferred = clips[preferredClip];
  if (preferred && covers(preferred)) return { clip: preferredClip, step: frame - preferred.start };
  const i = clips.findIndex(covers);
  return i < 0 ? null : { clip: i, step: frame - clips[i].start };
}

/** α_t of a clip (a view, not a copy). */
export function alphaOf(result: InspectResult, ref: StepRef): Float32Array {
  const L = result.locations;
  return result.clips[ref.clip].alpha.subarray(ref.step * L, (ref.step + 1) * L);
}

/** p_t of a clip (a view, not a copy). */
export function probsOf(result: InspectResult, ref: StepRef): Float32Array {
  const C = result.classNames.length;
  return result.clips[ref.clip].probs.subarray(ref.step * C, (ref.step + 1) * C);
}

/**
 * The display normalisation of the overlay and the kymograph: α / max α over the step's locations, so the
 * most attended cell is the top of the colormap and a cell with no attention its bottom. The overlay
 * then shows colormap entry round(255 · α_l / max α), as the exports do (common/colormaps normaliseMap).
 */
export function displayMap(alpha: Float32Array): { values: Float32Array; max: number } {
  let max = 0;
  for (const a of alpha) if (a > max) max = a;
  return { values: normaliseMap(alpha), max };
}

/** Clip c decides from its last lastN steps: frames [start + steps − lastN, start + steps). */
export function decisionWindow(clip: InspectClip, lastN: number): { from: number; to: number } {
  const n = Math.min(lastN, clip.steps);
  return { from: clip.start + clip.steps - n, to: clip.start + clip.steps };
}

/**
 * The decision the clip rule would give if the clip ended at step t: argmax of the summed probabilities
 * of steps max(0, t − lastN + 1) … t.
 */
export function runningDecision(clip: InspectClip, classes: number, lastN: number): Int32Array {
  const out = new Int32Array(clip.steps);
  const sums = new Float64Array(classes);
  for (let t = 0; t < clip.steps; t++) {
    for (let c = 0; c < classes; c++) sums[c] += clip.probs[t * classes + c];
    if (t >= lastN) for (let c = 0; c < classes; c++) sums[c] -= clip.probs[(t - lastN) * classes + c];
    let best = 0;
    for (let c = 1; c < classes; c++) if (sums[c] > sums[best]) best = c;
    out[t] = best;
  }
  return out;
}

export interface FrameSeries {
  /** For each frame: the clip showing it, or −1 outside every clip. */
  clipOf: Int32Array;
  stepOf: Int32Array;
  /** H(α_t)/log L per frame (NaN outside clips). */
  entropy: Float32Array;
  /** Attention centroid per frame in grid units (NaN outside clips). */
  cx: Float32Array;
  cy: Float32Array;
  /** Running decision per frame (−1 outside clips). */
  decision: Int32Array;
}

export function frameSeries(result: InspectResult, preferredClip: number): FrameSeries {
  const N = result.frames;
  const s: FrameSeries = {
    clipOf: new Int32Array(N).fill(-1),
    stepOf: new Int32Array(N).fill(-1),
    entropy: new Float32Array(N).fill(NaN),
    cx: new Float32Array(N).fill(NaN),
    cy: new Float32Array(N).fill(NaN),
    decision: new Int32Array(N).fill(-1),
  };
  const decisions = result.clips.map((c) => runningDecision(c, result.classNames.length, result.lastN));
  for (let f = 0; f < N; f++) {
    const ref = stepAt(result.clips, f, preferredClip);
    if (!ref) continue;
    const alpha = alphaOf(result, ref);
    const centroid = attentionCentroid(alpha, result.grid);
    s.clipOf[f] = ref.clip;
    s.stepOf[f] = ref.step;
    s.entropy[f] = normalisedEntropy(alpha);
    s.cx[f] = centroid.x;
    s.cy[f] = centroid.y;
    s.decision[f] = decisions[ref.clip][ref.step];
  }
  return s;
}

/** The k classes with the highest video scores, best first. */
export function topClasses(scores: readonly number[], k: number): number[] {
  return scores
    .map((score, c) => ({ score, c }))
    .sort((a, b) => b.score - a.score)
    .slice(0, k)
    .map((e) => e.c);
}

/** "clips of 30 steps every 30 frames; step t of clip c is frame start_c + t" for the view's notes. */
export function describeClips(result: InspectResult): string {
  const n = result.clips.length;
  if (n === 0) return 'no clips: the video has no feature rows';
  const first = result.clips[0];
  if (n === 1)
    return `one clip of ${first.steps} steps from frame ${first.start}; step t is frame ${first.start} + t`;
  const last = result.clips[n - 1];
  const regular = result.clips.slice(0, -1).every((c, i) => c.start === i * result.stride);
  const spacing = regular ? `every ${result.stride} frames` : 'at the starts listed';
  const tail =
    last.start !== (n - 1) * result.stride
      ? `, the last one starting at frame ${last.start} to end with the video`
      : '';
  return `${n} clips of up to ${result.maxlen} steps ${spacing}${tail}; step t of clip c is frame start_c + t`;
}
