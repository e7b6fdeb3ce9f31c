/**
 * What the Evaluate view derives from a kept report: the headline numbers, the videos of a confusion
 * cell or of a paired-outcome cell, precision–recall curves, and the per-video CSV export.
 */
import type { EvaluationReportData, EvaluationVideo } from '../../../main/engine/api.ts';

/** Mean over the classes that have videos (the usual "mean class accuracy"). */
export function meanOfDefined(values: readonly (number | null)[] | undefined): number | null {
  const defined = (values ?? []).filter((v): v is number => v !== null);
  return defined.length === 0 ? null : defined.reduce((a, b) => a + b, 0) / defined.length;
}

/** The model's confidence in what it decided: the video score of its prediction (multi-label: top score). */
export function confidence(video: EvaluationVideo): number {
  return video.prediction !== undefined ? (video.scores[video.prediction] ?? 0) : Math.max(...video.scores);
}

export function isRight(video: EvaluationVideo): boolean {
  return video.prediction === video.label;
}

export type Selection =
  | { kind: 'cell'; row: number; col: number }
  | { kind: 'paired'; a: boolean; b: boolean }
  | { kind: 'class'; class: number };

/** The videos a selection names, in video order. */
export function selectedVideos(report: EvaluationReportData, selection: Selection): EvaluationVideo[] {
  const other = report.comparison?.report.videos;
  return report.videos.filter((v, i) => {
    if (selection.kind === 'cell') return v.label === selection.row && v.prediction === selection.col;
    if (selection.kind === 'class')
      return Array.isArray(v.label) ? v.label[selection.class] === 1 : v.label === selection.class;
    const b = other?.[i];
    return b !== undefined && isRight(v) === selection.a && isRight(b) === selection.b;
  });
}

export interface PrPoint {
  recall: number;
  precision: number;
}

/** Precision and recall at every cut of the videos sorted by descending score (ties kept in video order). */
export function prCurve(scores: readonly number[], relevant: readonly boolean[]): PrPoint[] {
  const positives = relevant.filter(Boolean).length;
  if (positives === 0) return [];
  const order = scores.map((s, i) => [s, i] as const).sort((a, b) => b[0] - a[0]);
  const points: PrPoint[] = [{ recall: 0, precision: 1 }];
  let hits = 0;
  order.forEach(([, i], k) => {
    if (relevant[i]) hits++;
    points.push({ recall: hits / positives, precision: hits / (k + 1) });
  });
  return points;
}

function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(Number(v.toPrecision(6))) : String(v);
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** One row per video: what it is, what the model(s) said, how sure, and its attention numbers. */
export function videosCsv(report: EvaluationReportData): string {
  const names = report.model.classNames;
  const b = report.comparison?.report;
  const s = report.settings;
  const header = [
    'index',
    'file',
    'label',
    'prediction',
    'correct',
    'confidence',
    'mean_entropy',
    'coverage_penalty',
    ...(b ? ['b_prediction', 'b_correct', 'b_confidence'] : []),
    'split',
    'stride',
    'last_n',
  ];
  const className = (c: number | number[] | undefined) =>
    c === undefined
      ? ''
      : Array.isArray(c)
        ? c
            .map((x, i) => (x ? names[i] : ''))
            .filter(Boolean)
            .join('|')
        : (names[c] ?? String(c));
  const rows = report.videos.map((v, i) => {
    const w = b?.videos[i];
    return [
      v.index,
      v.file,
      className(v.label),
      className(v.prediction),
      v.prediction === undefined ? '' : isRight(v),
      confidence(v),
      v.attention?.meanEntropy,
      v.attention?.penalty,
      ...(w ? [className(w.prediction), isRight(w), confidence(w)] : []),
      report.dataset.split,
      s.stride,
      s.lastN,
    ]
      .map(csvField)
      .join(',');
  });
  return [header.join(','), ...rows].join('\n') + '\n';
}
