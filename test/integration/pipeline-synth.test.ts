/**
 * The project's end-to-end check, through the real CLI: `glimpse synth` on a fresh seed → `glimpse extract`
 * with the built-in backbone → `glimpse train` → `glimpse evaluate --boxes` on the test split must reach
 * ≥ 90% video accuracy with attention concentrated on the actor (ratio ≥ 2 against uniform).
 * The seed is new on every run (GLIMPSE_TEST_SEED pins one, to reproduce a failure); GLIMPSE_TEST_CLASSES
 * changes the class count (default 4).
 *
 * Training reads the class through --ctx2out (the attended context feeds the output layer directly, a
 * reference option): without it, 1 of 3 seeds tried stalled near 50%, attention only loosely on the actor.
 * Dropout is off: the set is noise-free, and with it training sat at 50% longer (measured at stride 4).
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { runGlimpse } from '../support/cli.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-pipeline-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function step(args: string[]): string {
  const started = performance.now();
  const r = runGlimpse(args);
  assert.equal(r.code, 0, `glimpse ${args[0]} failed: ${r.stderr}`);
  return `${args[0]} ${((performance.now() - started) / 1000).toFixed(0)} s`;
}

test('synth → extract → train → evaluate --boxes: accurate, and attending to the actor', (t) => {
  const seed = process.env.GLIMPSE_TEST_SEED ?? String(Math.floor(Math.random() * 1e9));
  const classes = process.env.GLIMPSE_TEST_CLASSES ?? '4';
  const videos = path.join(tmp, 'videos');
  const features = path.join(tmp, 'features');
  const model = path.join(tmp, 'model.h5');
  const report = path.join(tmp, 'report.json');
  const times = [
    step(['synth', '--out', videos, '--seed', seed, '--classes', classes, '--videos', '20']),
    step(['extract', '--videos', videos, '--dataset-kind', 'synth', '--out', features, '--batch', '32']),
    step([
      'train',
      '--dataset',
      features,
      '--out',
      model,
      '--dim',
      '32',
      '--dim-out',
      '32',
      '--maxlen',
      '16',
      '--last-n',
      '16',
      '--training-stride',
      '2',
      '--valid-stride',
      '8',
      '--optimizer',
      'adam',
      '--lrate',
      '0.005',
      '--batch-size',
      '16',
      '--epochs',
      '40',
      '--no-dropout',
      '--ctx2out',
      '--seed',
      '3',
    ]),
    step([
      'evaluate',
      '--model',
      model,
      '--dataset',
      features,
      '--split',
      'test',
      '--out',
      report,
      '--boxes',
      videos,
    ]),
  ];
  const result = JSON.parse(readFileSync(report, 'utf8'));
  const { accuracy, attentionOnActor } = result.metrics;
  t.diagnostic(
    `seed ${seed}, ${classes} classes: test accuracy ${(accuracy * 100).toFixed(1)}% over ${result.videos.length} videos, ` +
      `attention on actor ${(attentionOnActor.massInside * 100).toFixed(1)}% of the mass on ` +
      `${(attentionOnActor.areaInside * 100).toFixed(1)}% of the frame (ratio ${attentionOnActor.ratio.toFixed(2)}); ` +
      times.join(', '),
  );
  assert.ok(accuracy >= 0.9, `seed ${seed}: test accuracy ${accuracy}`);
  assert.ok(attentionOnActor.ratio >= 2, `seed ${seed}: attention-on-actor ratio ${attentionOnActor.ratio}`);
  // Without --steps the report stays small: the per-step arrays were only used for the measurement.
  assert.equal(result.videos[0].clips[0].alpha, undefined);
});
