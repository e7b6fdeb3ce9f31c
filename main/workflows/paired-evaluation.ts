/**
 * Two models' evaluations of the same split, paired video by video: McNemar's exact test and a paired
 * bootstrap interval on the accuracy difference (or on the mAP difference for multi-label models), the
 * per-class deltas and the videos where the predictions differ. The statistics are common/paired-stats.ts.
 */
import { multilabelMetrics } from '../../common/metrics.ts';
import { pairedAccuracy, pairedBootstrap, type PairedStatistics } from '../../common/paired-stats.ts';
import type { VideoResult } from '../../model/evaluate.ts';

export const BOOTSTRAP_RESAMPLES = 2000;
export const BOOTSTRAP_SEED = 1;

interface Side {
  path: string;
  videos: readonly VideoResult[];
  perClass: readonly (number | null)[];
  multilabel: boolean;
}

function sameVideos(a: Side, b: Side): void {
  const problem = (why: string) =>
    new Error(`${b.path}: cannot be paired with ${a.path} on this split: ${why}`);
  if (a.multilabel !== b.multilabel) throw problem('one model is multi-label, the other is not');
  if (a.videos.length !== b.videos.length)
    throw problem(`${a.videos.length} videos against ${b.videos.length}`);
  a.videos.forEach((v, i) => {
    const w = b.videos[i];
    if (w.index !== v.index || w.file !== v.file || JSON.stringify(w.label) !== JSON.stringify(v.label))
      throw problem(`video ${i} differs (${v.file || v.index} against ${w.file || w.index})`);
  });
  if (a.perClass.length !== b.perClass.length)
    throw problem(`${a.perClass.length} classes against ${b.perClass.length}`);
}

export function pairedStatistics(
  a: Side,
  b: Side,
  options: { resamples?: number; seed?: number } = {},
): PairedStatistics {
  sameVideos(a, b);
  const bootstrap = {
    resamples: options.resamples ?? BOOTSTRAP_RESAMPLES,
    seed: options.seed ?? BOOTSTRAP_SEED,
  };
  const perClassDelta = a.perClass.map((x, c) => {
    const y = b.perClass[c];
    return x === null || y === null ? null : x - y;
  });
  if (a.multilabel) {
    const labels = a.videos.map((v) => v.label as number[]);
    const mapOf = (side: Side, indices: ArrayLike<number>) =>
      multilabelMetrics(
        Array.from(indices, (i) => labels[i]),
        Array.from(indices, (i) => side.videos[i].scores),
      ).mAP;
    const all = a.videos.map((_, i) => i);
    const interval = pairedBootstrap(
      a.videos.length,
      (indices) => mapOf(a, indices) - mapOf(b, indices),
      bootstrap,
    );
    const mapA = mapOf(a, all);
    const mapB = mapOf(b, all);
    return {
      accuracy: null,
      mAP: { a: mapA, b: mapB, difference: mapA - mapB, interval },
      perClassDelta,
      disagreements: [],
    };
  }
  const right = (side: Side) => side.videos.map((v) => v.prediction === v.label);
  return {
    accuracy: pairedAccuracy(right(a), right(b), bootstrap),
    mAP: null,
    perClassDelta,
    disagreements: a.videos.filter((v, i) => v.prediction !== b.videos[i].prediction).map((v) => v.index),
  };
}
