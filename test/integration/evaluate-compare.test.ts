// `glimpse evaluate --compare M2` on real files (synthetic videos → built-in features → two small trained
// models): the report carries B's own report (the same numbers as `glimpse evaluate --model M2`), the paired
// statistics recomputed here from the two reports' videos, compact per-video and per-class attention
// statistics; the CLI prints McNemar's p and the interval. Bad input: a model of another class count or
// feature width than the dataset, and a split file naming videos the split does not have, each one line.
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import { mcnemarExactP } from '../../common/paired-stats.ts';
import type { EvaluationReport } from '../../main/workflows/evaluation.ts';
import { runGlimpse, runPython } from '../support/cli.ts';
import { makeEngineFixture, type EngineFixture } from '../support/engine-fixture.ts';

function readReport(file: string): EvaluationReport {
  return JSON.parse(readFileSync(file, 'utf8')) as EvaluationReport;
}

describe('glimpse evaluate --compare', () => {
  let fx: EngineFixture;
  let modelB: string;
  before(() => {
    fx = makeEngineFixture();
    modelB = path.join(fx.root, 'model-b.h5');
    // B: another seed, one epoch with a high rate, so the two models differ.
    const r = runGlimpse([
      'train',
      ...['--dataset', fx.features, '--out', modelB, '--dim', '8', '--dim-out', '8', '--maxlen', '16'],
      ...['--last-n', '4', '--training-stride', '8', '--batch-size', '8', '--epochs', '1', '--no-dropout'],
      ...['--seed', '11'],
    ]);
    assert.equal(r.code, 0, r.stderr);
  });

  test('writes the paired statistics, B’s own report and the attention statistics', () => {
    const out = path.join(fx.root, 'paired.json');
    const r = runGlimpse([
      'evaluate',
      ...['--model', fx.model, '--compare', modelB, '--dataset', fx.features, '--split', 'test'],
      ...['--stride', '4', '--out', out],
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /McNemar exact p = [\d.e-]+/);
    assert.match(r.stdout, /95% bootstrap interval \[[+-][\d.]+, [+-][\d.]+\]/);
    assert.match(r.stdout, /stride 4, last_n 8/);
    const report = readReport(out);
    assert.ok(report.comparison, 'no comparison in the report');
    const { report: b, paired } = report.comparison;

    // B alone gives the numbers the comparison holds for it.
    const alone = path.join(fx.root, 'b.json');
    assert.equal(
      runGlimpse([
        'evaluate',
        ...['--model', modelB, '--dataset', fx.features, '--split', 'test', '--stride', '4', '--out', alone],
      ]).code,
      0,
    );
    const bAlone = readReport(alone);
    assert.deepEqual(b.metrics, bAlone.metrics);
    assert.deepEqual(
      b.videos.map((v) => v.prediction),
      bAlone.videos.map((v) => v.prediction),
    );
    assert.equal(b.settings.lastN, 4, 'B keeps its own last_n');

    // The paired numbers, recounted from the two reports' videos.
    const rightA = report.videos.map((v) => v.prediction === v.label);
    const rightB = b.videos.map((v) => v.prediction === v.label);
    const onlyA = rightA.filter((x, i) => x && !rightB[i]).length;
    const onlyB = rightB.filter((x, i) => x && !rightA[i]).length;
    const acc = paired.accuracy;
    assert.ok(acc);
    assert.equal(acc.onlyA, onlyA);
    assert.equal(acc.onlyB, onlyB);
    assert.equal(acc.mcnemarP, mcnemarExactP(onlyA, onlyB));
    assert.equal(acc.accuracyA, report.metrics.accuracy);
    assert.equal(acc.accuracyB, b.metrics.accuracy);
    assert.ok(
      Math.abs(acc.difference - ((report.metrics.accuracy ?? 0) - (b.metrics.accuracy ?? 0))) < 1e-12,
    );
    assert.ok(acc.interval.low <= acc.difference && acc.difference <= acc.interval.high);
    assert.deepEqual(
      paired.disagreements,
      report.videos.filter((v, i) => v.prediction !== b.videos[i].prediction).map((v) => v.index),
    );
    paired.perClassDelta.forEach((d, c) => {
      const x = report.metrics.perClassAccuracy?.[c] ?? null;
      const y = b.metrics.perClassAccuracy?.[c] ?? null;
      assert.equal(d, x === null || y === null ? null : x - y);
    });

    // Attention statistics: a distribution per video, coverage summing to the clip length, per class.
    const L = report.model.options.locations;
    for (const v of report.videos) {
      const a = v.attention;
      assert.ok(a, `video ${v.index} has no attention statistics`);
      assert.equal(a.mean.length, L);
      assert.ok(Math.abs(a.mean.reduce((s, x) => s + x, 0) - 1) < 0.01);
      assert.ok(Math.abs(a.coverage.reduce((s, x) => s + x, 0) - report.settings.maxlen) < 0.05);
      assert.ok(a.meanEntropy > 0 && a.meanEntropy <= 1);
      assert.ok(a.entropy.length >= 1 && a.entropy.length <= 64);
    }
    assert.equal(report.classAttention?.length, report.model.classNames.length);
    const perClass = report.classAttention?.[0];
    assert.equal(perClass?.videos, report.videos.filter((v) => v.label === 0).length);
  });

  test('a model of another class count or feature width, and a split naming missing videos: one line', () => {
    const bad = path.join(fx.root, 'bad-classes');
    cpSync(fx.features, bad, { recursive: true });
    writeFileSync(path.join(bad, 'classes.txt'), 'a\nb\nc\n');
    const out = path.join(fx.root, 'never.json');
    const classes = runGlimpse([
      'evaluate',
      ...['--model', fx.model, '--dataset', bad, '--split', 'test', '--out', out],
    ]);
    assert.notEqual(classes.code, 0);
    // After the `backend:` line, one line of error.
    const lines = classes.stderr.trim().split('\n');
    assert.equal(lines.length, 2, classes.stderr);
    assert.match(lines[1], /classes\.txt: lists 3 classes, expected 2$/);

    const wide = path.join(fx.root, 'bad-width');
    cpSync(fx.features, wide, { recursive: true });
    // The same frames with 16 channels per location instead of the model's D.
    runPython(
      [
        'import h5py, numpy as np, sys',
        "f = h5py.File(sys.argv[1], 'r+'); x = f['features'][:]; del f['features']",
        "f['features'] = np.zeros((x.shape[0], 49 * 16), np.float32); f.close()",
      ].join('\n'),
      [path.join(wide, 'test_features.h5')],
    );
    const width = runGlimpse([
      'evaluate',
      ...['--model', fx.model, '--dataset', wide, '--split', 'test', '--out', out],
    ]);
    assert.notEqual(width.code, 0);
    assert.match(
      width.stderr.trim(),
      /test_features\.h5: row width 784 does not match L=49 locations × D=32/,
    );

    const missing = path.join(fx.root, 'bad-names');
    cpSync(fx.features, missing, { recursive: true });
    const names = path.join(missing, 'test_filename.txt');
    writeFileSync(names, readFileSync(names, 'utf8') + 'no_such_video.avi\n');
    const named = runGlimpse([
      'evaluate',
      ...['--model', fx.model, '--dataset', missing, '--split', 'test', '--out', out],
    ]);
    assert.notEqual(named.code, 0);
    assert.match(
      named.stderr.trim(),
      /test_filename\.txt: has \d+ file names but .*test_framenum\.txt lists \d+ videos/,
    );
    assert.throws(() => readFileSync(out), /ENOENT/);
  });
});
