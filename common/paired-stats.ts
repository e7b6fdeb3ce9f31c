/**
 * Paired statistics of two models evaluated on the same videos: McNemar's exact test (a two-sided binomial
 * test on the discordant pairs, as scipy.stats.binomtest(b, b + c, 0.5)) and a seeded paired bootstrap
 * interval on a difference of scores (videos resampled with replacement, the same draw for both models).
 * Node-free: the renderer and the CLI compute the same numbers.
 */

/** log(n!) by summation, memoised: exact enough for binomial tails at any split size. */
const logFactorials: number[] = [0];
function logFactorial(n: number): number {
  for (let k = logFactorials.length; k <= n; k++) logFactorials.push(logFactorials[k - 1] + Math.log(k));
  return logFactorials[n];
}

/** P(X = k) for X ~ Binomial(n, 1/2). */
function halfBinomialPmf(k: number, n: number): number {
  return Math.exp(logFactorial(n) - logFactorial(k) - logFactorial(n - k) - n * Math.LN2);
}

/**
 * Two-sided exact p of McNemar's test from the discordant counts: b = A right and B wrong, c = A wrong and
 * B right. Under H0 b ~ Binomial(b + c, 1/2); the two-sided p sums the outcomes no more likely than b
 * (SciPy's rule), which for p = 1/2 is twice the smaller tail, capped at 1.
 */
export function mcnemarExactP(b: number, c: number): number {
  if (!Number.isInteger(b) || !Number.isInteger(c) || b < 0 || c < 0)
    throw new Error(`McNemar's test needs counts ≥ 0, got b=${b}, c=${c}`);
  const n = b + c;
  if (b === c) return 1;
  let tail = 0;
  for (let k = 0; k <= Math.min(b, c); k++) tail += halfBinomialPmf(k, n);
  return Math.min(1, 2 * tail);
}

/** A small seeded generator (mulberry32): uniform in [0, 1), the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface BootstrapOptions {
  /** Resamples; default 2000. */
  resamples?: number;
  /** Confidence level; default 0.95. */
  level?: number;
  /** Default 1. */
  seed?: number;
}

export interface BootstrapInterval {
  /** The statistic on the data as observed. */
  estimate: number;
  low: number;
  high: number;
  level: number;
  resamples: number;
  seed: number;
}

/** The q-quantile of sorted values, linear between order statistics (NumPy's default). */
function quantile(sorted: Float64Array, q: number): number {
  const at = q * (sorted.length - 1);
  const lo = Math.floor(at);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (at - lo);
}

/**
 * Percentile bootstrap interval of `statistic` over n paired items: each resample draws n item indices
 * with replacement and evaluates the statistic on them (both models see the same draw: that is the pairing).
 */
export function pairedBootstrap(
  n: number,
  statistic: (indices: Int32Array) => number,
  options: BootstrapOptions = {},
): BootstrapInterval {
  const resamples = options.resamples ?? 2000;
  const level = options.level ?? 0.95;
  const seed = options.seed ?? 1;
  if (!Number.isInteger(n) || n < 1) throw new Error(`a bootstrap needs at least one item, got ${n}`);
  if (!(level > 0 && level < 1)) throw new Error(`bootstrap level must be in (0, 1), got ${level}`);
  const all = Int32Array.from({ length: n }, (_, i) => i);
  const random = seededRandom(seed);
  const values = new Float64Array(resamples);
  const draw = new Int32Array(n);
  for (let r = 0; r < resamples; r++) {
    for (let i = 0; i < n; i++) draw[i] = Math.floor(random() * n);
    values[r] = statistic(draw);
  }
  values.sort();
  const alpha = (1 - level) / 2;
  return {
    estimate: statistic(all),
    low: quantile(values, alpha),
    high: quantile(values, 1 - alpha),
    level,
    resamples,
    seed,
  };
}

export interface PairedAccuracy {
  n: number;
  accuracyA: number;
  accuracyB: number;
  /** accuracyA − accuracyB. */
  difference: number;
  bothRight: number;
  /** b: A right, B wrong. */
  onlyA: number;
  /** c: A wrong, B right. */
  onlyB: number;
  bothWrong: number;
  mcnemarP: number;
  /** Paired bootstrap interval on accuracyA − accuracyB. */
  interval: BootstrapInterval;
}

/** The paired comparison of two models' per-video correctness (same videos, same order). */
export function pairedAccuracy(
  rightA: readonly boolean[],
  rightB: readonly boolean[],
  options: BootstrapOptions = {},
): PairedAccuracy {
  if (rightA.length !== rightB.length)
    throw new Error(`paired results need the same videos: ${rightA.length} against ${rightB.length}`);
  const n = rightA.length;
  let bothRight = 0;
  let onlyA = 0;
  let onlyB = 0;
  for (let i = 0; i < n; i++) {
    if (rightA[i] && rightB[i]) bothRight++;
    else if (rightA[i]) onlyA++;
    else if (rightB[i]) onlyB++;
  }
  // Per video: +1 when only A is right, −1 when only B is; the accuracy difference is their mean.
  const delta = Float64Array.from({ length: n }, (_, i) => Number(rightA[i]) - Number(rightB[i]));
  const interval = pairedBootstrap(
    n,
    (indices) => {
      let sum = 0;
      for (const i of indices) sum += delta[i];
      return sum / indices.length;
    },
    options,
  );
  return {
    n,
    accuracyA: (bothRight + onlyA) / n,
    accuracyB: (bothRight + onlyB) / n,
    difference: (onlyA - onlyB) / n,
    bothRight,
    onlyA,
    onlyB,
    bothWrong: n - bothRight - onlyA - onlyB,
    mcnemarP: mcnemarExactP(onlyA, onlyB),
    interval,
  };
}

/** Two models on the same split, paired video by video (the report's `comparison.paired`). */
export interface PairedStatistics {
  /** Single-label: counts, accuracies, McNemar's p and the interval on accuracy A − B. */
  accuracy: PairedAccuracy | null;
  /** Multi-label: mAP A − B with its paired bootstrap interval. */
  mAP: { a: number; b: number; difference: number; interval: BootstrapInterval } | null;
  /** Per class: accuracy (or AP) of A minus that of B; null where either is undefined. */
  perClassDelta: (number | null)[];
  /** Indices of the videos whose predictions differ (single-label), in video order. */
  disagreements: number[];
}
