/**
 * Clip and video predictions and their scores, as the reference evaluates (original-code.md §1.8, §4).
 */

/** Single-label clip prediction: argmax over classes of the probabilities summed over the last `lastN` steps. */
export function clipPrediction(probs: number[][], lastN: number): { prediction: number; summed: number[] } {
  const steps = probs.slice(Math.max(0, probs.length - lastN));
  const summed = new Array<number>(probs[0].length).fill(0);
  for (const step of steps) step.forEach((p, c) => (summed[c] += p));
  return { prediction: argmax(summed), summed };
}

/** Multi-label clip score: the mean sigmoid output over the last `lastN` steps. */
export function clipScores(probs: number[][], lastN: number): number[] {
  const steps = probs.slice(Math.max(0, probs.length - lastN));
  const mean = new Array<number>(probs[0].length).fill(0);
  for (const step of steps) step.forEach((p, c) => (mean[c] += p / steps.length));
  return mean;
}

/** First index of the maximum, so ties go to the lowest class id. */
export function argmax(values: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

/** Majority vote over clip predictions; ties to the lowest class id (scipy.stats.mode). */
export function majorityVote(predictions: readonly number[], nClasses: number): number {
  const counts = new Array<number>(nClasses).fill(0);
  for (const p of predictions) counts[p] += 1;
  return argmax(counts);
}

export function meanOf(rows: readonly number[][]): number[] {
  const out = new Array<number>(rows[0].length).fill(0);
  for (const row of rows) row.forEach((v, i) => (out[i] += v / rows.length));
  return out;
}

export interface ClassificationMetrics {
  accuracy: number;
  /** Per class: share of that class's videos predicted right; null for a class with no videos. */
  perClassAccuracy: (number | null)[];
  /** confusion[true][predicted] = count. */
  confusion: number[][];
}

export function classificationMetrics(
  labels: readonly number[],
  predictions: readonly number[],
  nClasses: number,
): ClassificationMetrics {
  const confusion = Array.from({ length: nClasses }, () => new Array<number>(nClasses).fill(0));
  let right = 0;
  labels.forEach((label, i) => {
    confusion[label][predictions[i]] += 1;
    if (label === predictions[i]) right += 1;
  });
  const perClassAccuracy = confusion.map((row, c) => {
    const total = row.reduce((a, b) => a + b, 0);
    return total === 0 ? null : row[c] / total;
  });
  return { accuracy: labels.length === 0 ? 0 : right / labels.length, perClassAccuracy, confusion };
}

/**
 * Non-interpolated average precision: videos sorted by descending score, AP = (1/#pos) Σ_k precision@k · rel_k.
 * Null for a class without positives (the reference would divide by zero).
 */
export function averagePrecision(scores: readonly number[], relevant: readonly boolean[]): number | null {
  const positives = relevant.filter(Boolean).length;
  if (positives === 0) return null;
  // Stable sort, so equal scores keep video order.
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  let hits = 0;
  let sum = 0;
  order.forEach(([, i], k) => {
    if (relevant[i]) {
      hits += 1;
      sum += hits / (k + 1);
    }
  });
  return sum / positives;
}

export interface MultilabelMetrics {
  ap: (number | null)[];
  /** Mean AP over the classes that have positives. */
  mAP: number;
}

export function multilabelMetrics(
  labels: readonly number[][],
  scores: readonly number[][],
): MultilabelMetrics {
  const nClasses = labels[0]?.length ?? 0;
  const ap: (number | null)[] = [];
  for (let c = 0; c < nClasses; c++) {
    ap.push(
      averagePrecision(
        scores.map((s) => s[c]),
        labels.map((l) => l[c] === 1),
      ),
    );
  }
  const defined = ap.filter((v): v is number => v !== null);
  return { ap, mAP: defined.length === 0 ? 0 : defined.reduce((a, b) => a + b, 0) / defined.length };
}
