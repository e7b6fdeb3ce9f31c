/**
 * End to end on features where the class can only be read at one location per video (a marker tells which)
 * while distractor locations carry other classes' patterns: training must reach ≥ 95% test accuracy and the
 * attention must concentrate on the marked location.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { runGlimpse } from '../support/cli.ts';
import { makeSignalDataset } from '../support/signal-dataset.ts';

const tmp = mkdtempSync(join(tmpdir(), 'glimpse-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('training finds the class signal and attends to it', (t) => {
  makeSignalDataset(tmp);
  const model = join(tmp, 'model.h5');
  const common = ['--dataset', tmp, '--maxlen', '8', '--training-stride', '4'];
  const trained = runGlimpse([
    'train',
    ...common,
    '--out',
    model,
    '--dim',
    '32',
    '--dim-out',
    '32',
    '--optimizer',
    'adam',
    '--lrate',
    '0.005',
    '--batch-size',
    '16',
    '--epochs',
    '12',
    '--seed',
    '3',
    '--valid-stride',
    '4',
    '--last-n',
    '8',
  ]);
  assert.equal(trained.code, 0, trained.stderr);
  assert.ok(
    existsSync(model) && existsSync(join(tmp, 'model.resume.h5')) && existsSync(join(tmp, 'model.log.jsonl')),
  );

  const results = join(tmp, 'test.json');
  const predicted = runGlimpse([
    'predict',
    '--model',
    model,
    '--dataset',
    tmp,
    '--split',
    'test',
    '--stride',
    '4',
    '--last-n',
    '8',
    '--out',
    results,
  ]);
  assert.equal(predicted.code, 0, predicted.stderr);
  const report = JSON.parse(readFileSync(results, 'utf8'));
  assert.ok(report.metrics.accuracy >= 0.95, `test accuracy ${report.metrics.accuracy}`);

  const signal = JSON.parse(readFileSync(join(tmp, 'signal.json'), 'utf8')).test as number[];
  let onSignal = 0;
  let steps = 0;
  for (const video of report.videos) {
    for (const clip of video.clips) {
      for (const alpha of clip.alpha as number[][]) {
        onSignal += alpha[signal[video.index]];
        steps += 1;
      }
    }
  }
  const share = onSignal / steps;
  t.diagnostic(
    `test accuracy ${report.metrics.accuracy}, mean attention on the signal location ${share.toFixed(3)}`,
  );
  // Uniform attention would put 1/16 = 0.0625 on the signal location.
  assert.ok(share >= 0.5, `mean attention on the signal location ${share}`);
});
