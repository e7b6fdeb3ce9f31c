// The Evaluate view's derived data: PR curves agree with the report's AP, a confusion cell's and a paired
// cell's videos, the CSV export, and the confusion matrix's geometry (cell under a point, SVG cells).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { averagePrecision } from '../../common/metrics.ts';
import type { EvaluationReportData, EvaluationVideo } from '../../main/engine/api.ts';
import { cellAt, confusionLayout, confusionSvg } from '../../renderer/src/lib/confusion.ts';
import { meanOfDefined, prCurve, selectedVideos, videosCsv } from '../../renderer/src/lib/evaluate-data.ts';

function video(index: number, label: number, prediction: number): EvaluationVideo {
  const scores = [0.1, 0.1, 0.1];
  scores[prediction] = 0.8;
  return { index, file: `v${index}.avi`, label, prediction, scores, clips: 3 };
}

function report(videos: EvaluationVideo[], other?: EvaluationVideo[]): EvaluationReportData {
  const base: EvaluationReportData = {
    model: { path: '/m/a.h5', options: {}, classNames: ['run', 'walk', 'jump, high'], backend: 'cpu' },
    dataset: { dir: '/d', split: 'test' },
    settings: { maxlen: 30, stride: 1, lastN: 30 },
    videos,
    metrics: {},
  };
  if (other)
    base.comparison = {
      report: { ...base, model: { ...base.model, path: '/m/b.h5' }, videos: other },
      paired: { accuracy: null, mAP: null, perClassDelta: [], disagreements: [] },
    };
  return base;
}

test('the area under the PR points at each hit is the report’s average precision', () => {
  const scores = [0.9, 0.1, 0.8, 0.4, 0.35, 0.7, 0.2];
  const relevant = [true, false, false, true, true, false, true];
  const points = prCurve(scores, relevant);
  assert.equal(points.length, scores.length + 1);
  assert.equal(points.at(-1)?.recall, 1);
  let ap = 0;
  for (let k = 1; k < points.length; k++)
    ap += (points[k].recall - points[k - 1].recall) * points[k].precision;
  assert.ok(Math.abs(ap - (averagePrecision(scores, relevant) ?? NaN)) < 1e-12);
  assert.deepEqual(prCurve([0.5], [false]), []);
});

test('a confusion cell, a class and a paired cell select exactly their videos', () => {
  const a = [video(0, 0, 0), video(1, 0, 1), video(2, 1, 1), video(3, 2, 0), video(4, 0, 1)];
  const b = [video(0, 0, 1), video(1, 0, 0), video(2, 1, 1), video(3, 2, 2), video(4, 0, 1)];
  const r = report(a, b);
  assert.deepEqual(
    selectedVideos(r, { kind: 'cell', row: 0, col: 1 }).map((v) => v.index),
    [1, 4],
  );
  assert.deepEqual(
    selectedVideos(r, { kind: 'class', class: 0 }).map((v) => v.index),
    [0, 1, 4],
  );
  assert.deepEqual(
    selectedVideos(r, { kind: 'paired', a: true, b: false }).map((v) => v.index),
    [0],
  );
  assert.deepEqual(
    selectedVideos(r, { kind: 'paired', a: false, b: true }).map((v) => v.index),
    [1, 3],
  );
  assert.deepEqual(
    selectedVideos(r, { kind: 'paired', a: false, b: false }).map((v) => v.index),
    [4],
  );
  assert.equal(meanOfDefined([0.5, null, 1]), 0.75);
  assert.equal(meanOfDefined([null]), null);
});

test('the CSV has one row per video, quotes what needs quoting, and B’s columns when paired', () => {
  const a = [video(0, 2, 2), video(1, 0, 1)];
  const lines = videosCsv(report(a, [video(0, 2, 0), video(1, 0, 0)]))
    .trim()
    .split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[0], /,b_prediction,b_correct,b_confidence,split,stride,last_n$/);
  assert.equal(lines[1], '0,v0.avi,"jump, high","jump, high",true,0.8,,,run,false,0.8,test,1,30');
});

test('the confusion matrix: the cell under a point, and one SVG rect per cell', () => {
  const n = 51;
  const layout = confusionLayout(n);
  assert.ok(layout.cell >= 6 && layout.size <= 560);
  const at = (r: number, c: number) => ({
    x: layout.margin + (c + 0.5) * layout.cell,
    y: layout.margin + (r + 0.5) * layout.cell,
  });
  assert.deepEqual(cellAt(layout, n, at(3, 40).x, at(3, 40).y), { row: 3, col: 40 });
  assert.equal(cellAt(layout, n, 2, 2), null);
  const matrix = Array.from({ length: n }, (_, r) => Array.from({ length: n }, (_, c) => (r === c ? 5 : 0)));
  const svg = confusionSvg(matrix, [], layout);
  assert.equal(svg.match(/<rect x=/g)?.length, n * n);
  assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
});
