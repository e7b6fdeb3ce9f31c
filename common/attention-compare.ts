/**
 * The maths of comparing two models' attention on one video (the Compare view and its tests): the
 * per-step difference map α_A − α_B on a symmetric scale, the Jensen–Shannon divergence of the two
 * attention distributions (in bits, so it lies in [0, 1]) and where their per-step decisions (argmax of
 * p_t) disagree. Sequences are per frame of the shared clock (the feature row): null where a model has
 * no step at that frame (outside its clips, past its end), so gaps stay gaps. Node-free.
 */

/** α / Σα (a copy); all zeros stay zeros. The models' softmax sums to 1 only up to float error. */
function normalised(p: ArrayLike<number>): Float64Array {
  let sum = 0;
  for (let i = 0; i < p.length; i++) sum += p[i];
  const out = new Float64Array(p.length);
  if (sum > 0) for (let i = 0; i < p.length; i++) out[i] = p[i] / sum;
  return out;
}

/**
 * JS(P, Q) = ½ KL(P ‖ M) + ½ KL(Q ‖ M), M = ½(P + Q), in bits (log base 2): 0 for equal maps, 1 for
 * maps with disjoint support. Both are renormalised first; 0 · log 0 = 0.
 */
export function jsDivergence(p: ArrayLike<number>, q: ArrayLike<number>): number {
  if (p.length !== q.length) throw new Error(`JS divergence: ${p.length} locations against ${q.length}`);
  const a = normalised(p);
  const b = normalised(q);
  let js = 0;
  for (let i = 0; i < a.length; i++) {
    const m = (a[i] + b[i]) / 2;
    if (a[i] > 0) js += a[i] * Math.log2(a[i] / m);
    if (b[i] > 0) js += b[i] * Math.log2(b[i] / m);
  }
  // Rounding can leave a tiny negative or a hair above 1.
  return Math.min(1, Math.max(0, js / 2));
}

/** α_A − α_B per location. */
export function attentionDifference(a: ArrayLike<number>, b: ArrayLike<number>): Float32Array {
  if (a.length !== b.length) throw new Error(`difference map: ${a.length} locations against ${b.length}`);
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i] - b[i];
  return out;
}

/**
 * A difference map on a symmetric scale for a diverging colormap: v = ½ + Δ / (2m), m = max |Δ|, so
 * 0.5 is no difference and 0 / 1 are ∓m (all 0.5 when the maps are equal). `max` is m.
 */
export function symmetricDisplay(diff: ArrayLike<number>): { values: Float32Array; max: number } {
  let max = 0;
  for (let i = 0; i < diff.length; i++) max = Math.max(max, Math.abs(diff[i]));
  const values = new Float32Array(diff.length).fill(0.5);
  if (max > 0) for (let i = 0; i < diff.length; i++) values[i] = 0.5 + diff[i] / (2 * max);
  return { values, max };
}

/** The index of the largest value (the first of equals); −1 for none. */
export function argmax(values: ArrayLike<number>): number {
  let best = -1;
  for (let i = 0; i < values.length; i++) if (best < 0 || values[i] > values[best]) best = i;
  return best;
}

/** JS divergence per frame of the shared clock; NaN where either model has no step. */
export function jsTimeline(
  a: readonly (ArrayLike<number> | null)[],
  b: readonly (ArrayLike<number> | null)[],
): Float32Array {
  const n = Math.max(a.length, b.length);
  const out = new Float32Array(n).fill(NaN);
  for (let f = 0; f < n; f++) {
    const p = a[f];
    const q = b[f];
    if (p && q) out[f] = jsDivergence(p, q);
  }
  return out;
}

export interface FrameRun {
  /** First frame of the run. */
  from: number;
  /** One past its last frame. */
  to: number;
}

/**
 * The runs of frames where both models decide (decision ≥ 0) and decide differently; frames where one
 * has no step are neither agreement nor disagreement.
 */
export function disagreementRuns(a: ArrayLike<number>, b: ArrayLike<number>): FrameRun[] {
  const n = Math.max(a.length, b.length);
  const runs: FrameRun[] = [];
  for (let f = 0; f < n; f++) {
    const da = f < a.length ? a[f] : -1;
    const db = f < b.length ? b[f] : -1;
    if (da < 0 || db < 0 || da === db) continue;
    const last = runs[runs.length - 1];
    if (last && last.to === f) last.to = f + 1;
    else runs.push({ from: f, to: f + 1 });
  }
  return runs;
}
