/**
 * Compact attention statistics of an evaluation: per video (summed clip by clip while the split runs, so a
 * full UCF-11 run never holds per-step attention) and per class. Coverage is Σ_t α_t,l per location — the
 * quantity the `alpha_c` term pulls towards 1 (penalty Σ_l (1 − Σ_t α_t,l)² per clip). Entropy is
 * normalised, H(α_t) / log L in [0, 1] (1 = uniform).
 */

export interface VideoAttention {
  /** Mean α over every step of every clip, per location l = row·K + col. */
  mean: number[];
  /** Mean over clips of Σ_t α_t,l. */
  coverage: number[];
  /** Mean over clips of Σ_l (1 − Σ_t α_t,l)². */
  penalty: number;
  /** Mean normalised entropy over all steps. */
  meanEntropy: number;
  /** Per clip (in clip order) the mean normalised entropy, averaged into at most SPARK_POINTS bins. */
  entropy: number[];
}

export interface ClassAttention {
  /** Videos of the class the numbers are over (0: nulls). */
  videos: number;
  mean: number[] | null;
  coverage: number[] | null;
  penalty: number | null;
  meanEntropy: number | null;
}

export const SPARK_POINTS = 64;

/** Four significant decimals: what a thumbnail or a table needs, a third of the JSON. */
function round4(v: number): number {
  return Math.round(v * 1e4) / 1e4;
}

/** `values` averaged into at most `points` equal bins (in order). */
export function binned(values: readonly number[], points: number): number[] {
  if (values.length <= points) return [...values];
  const out: number[] = [];
  for (let p = 0; p < points; p++) {
    const from = Math.floor((p * values.length) / points);
    const to = Math.floor(((p + 1) * values.length) / points);
    let sum = 0;
    for (let i = from; i < to; i++) sum += values[i];
    out.push(sum / (to - from));
  }
  return out;
}

/** What one clip adds to its video's statistics: Σ_t α_t,l per location, Σ_t of the normalised entropy, T. */
export interface ClipAttention {
  sums: number[];
  entropy: number;
  steps: number;
}

/** Clip b of a step-major (T, B, L) attention block: step t's map at ((t·B + b)·L). */
export function clipAttention(
  alphas: Float32Array,
  T: number,
  B: number,
  b: number,
  L: number,
): ClipAttention {
  const sums = new Float64Array(L);
  const logL = Math.log(L);
  let entropy = 0;
  for (let t = 0; t < T; t++) {
    const at = (t * B + b) * L;
    let h = 0;
    for (let l = 0; l < L; l++) {
      const a = alphas[at + l];
      sums[l] += a;
      if (a > 0) h -= a * Math.log(a);
    }
    entropy += L > 1 ? h / logL : 0;
  }
  return { sums: Array.from(sums), entropy, steps: T };
}

/** Sums one video's clips as they come; `result()` is the video's VideoAttention. */
export class AttentionSummer {
  private readonly mean: Float64Array;
  private readonly coverage: Float64Array;
  private readonly entropies: number[] = [];
  private penalty = 0;
  private steps = 0;

  constructor(private readonly locations: number) {
    this.mean = new Float64Array(locations);
    this.coverage = new Float64Array(locations);
  }

  /**
   * Clip b of a step-major (T, B, L) attention block: step t's map at ((t·B + b)·L).
   */
  addClip(alphas: Float32Array, T: number, B: number, b: number): void {
    this.add(clipAttention(alphas, T, B, b, this.locations));
  }

  /** One clip's sums, as clipAttention made them (here or on another machine): the same totals either way. */
  add(clip: ClipAttention): void {
    const L = this.locations;
    let penalty = 0;
    for (let l = 0; l < L; l++) {
      this.mean[l] += clip.sums[l];
      this.coverage[l] += clip.sums[l];
      penalty += (1 - clip.sums[l]) ** 2;
    }
    this.penalty += penalty;
    this.steps += clip.steps;
    this.entropies.push(clip.entropy / clip.steps);
  }

  result(): VideoAttention {
    const clips = this.entropies.length;
    if (clips === 0) throw new Error('no clips were summed');
    return {
      mean: Array.from(this.mean, (s) => round4(s / this.steps)),
      coverage: Array.from(this.coverage, (s) => round4(s / clips)),
      penalty: round4(this.penalty / clips),
      meanEntropy: round4(this.entropies.reduce((a, b) => a + b, 0) / clips),
      entropy: binned(this.entropies, SPARK_POINTS).map(round4),
    };
  }
}

/** Per class, the mean of its videos' statistics (a multi-label video counts for each of its classes). */
export function classAttention(
  videos: readonly { label: number | number[]; attention?: VideoAttention }[],
  nClasses: number,
): ClassAttention[] {
  return Array.from({ length: nClasses }, (_, c): ClassAttention => {
    const members = videos.filter(
      (v) => v.attention && (Array.isArray(v.label) ? v.label[c] === 1 : v.label === c),
    );
    if (members.length === 0)
      return { videos: 0, mean: null, coverage: null, penalty: null, meanEntropy: null };
    const stats = members.map((v) => v.attention as VideoAttention);
    const avg = (pick: (a: VideoAttention) => number) =>
      round4(stats.reduce((s, a) => s + pick(a), 0) / stats.length);
    const avgMap = (pick: (a: VideoAttention) => number[]) =>
      pick(stats[0]).map((_, l) => avg((a) => pick(a)[l]));
    return {
      videos: members.length,
      mean: avgMap((a) => a.mean),
      coverage: avgMap((a) => a.coverage),
      penalty: avg((a) => a.penalty),
      meanEntropy: avg((a) => a.meanEntropy),
    };
  });
}
