/**
 * The convergence section of `glimpse bench`: the signal test bed really hides the class from the frame average
 * (read back with h5py), and the bench reports, per init, the epoch the validation accuracy first reached 90% or
 * that it did not within the cap.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { writeSignalSet } from '../../main/bench/signal-set.ts';
import { runGlimpse, runPython } from '../support/cli.ts';

const tmp = mkdtempSync(join(tmpdir(), 'glimpse-convergence-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

// Nearest class mean, fitted on train and scored on valid, of (a) each video's average over frames and locations
// and (b) its marked location (the one whose first four channels are highest), averaged over frames.
const PROBE = `
import json, sys, numpy as np, h5py
d = sys.argv[1]
info = json.load(open(f'{d}/dataset.json')); L, D = info['locations'], info['ctxDim']
def split(name):
    x = h5py.File(f'{d}/{name}_features.h5', 'r')['features'][()].reshape(-1, D, L).transpose(0, 2, 1)
    counts = [int(v) for v in open(f'{d}/{name}_framenum.txt')]
    labels = np.array([int(v) for v in open(f'{d}/{name}_labels.txt')])
    starts = np.cumsum([0] + counts[:-1])
    videos = [x[s:s + n] for s, n in zip(starts, counts)]
    avg = np.array([v.mean(axis=(0, 1)) for v in videos])
    marked = np.array([v.mean(axis=0)[v[:, :, :4].mean(axis=(0, 2)).argmax()] for v in videos])
    return avg, marked, labels
def score(train, valid, ytr, yva):
    means = np.array([train[ytr == c].mean(axis=0) for c in range(ytr.max() + 1)])
    guess = ((valid[:, None, :] - means[None]) ** 2).sum(-1).argmin(1)
    return float((guess == yva).mean())
a_tr, m_tr, y_tr = split('train'); a_va, m_va, y_va = split('valid')
print(json.dumps({'average': score(a_tr, a_va, y_tr, y_va), 'marked': score(m_tr, m_va, y_tr, y_va), 'classes': int(y_tr.max() + 1)}))
`;

test('the signal test bed: the frame average says little of the class, the marked location all of it', async () => {
  const dir = join(tmp, 'set');
  await writeSignalSet(dir, 1);
  const probe = JSON.parse(runPython(PROBE, [dir])) as { average: number; marked: number; classes: number };
  assert.equal(probe.classes, 4);
  assert.equal(probe.marked, 1, 'the marked location names the class');
  assert.ok(
    probe.average <= 0.5,
    `the frame average classifies ${probe.average} of valid videos (chance 0.25)`,
  );
});

interface ConvergenceLine {
  name: string;
  init: string;
  metric: string;
  target: number;
  epochs_to_target: number | null;
  max_epochs: number;
  valid_accuracy: number[];
  train_loss: number[];
  seconds: number;
  setup: { dim: number; valid_videos: number };
}

test('bench --json reports epochs to 90% validation accuracy for --init reference and glorot, capped', () => {
  const cap = 3;
  const r = runGlimpse([
    'bench',
    ...['--shape', 'small', '--batch', '2', '--iters', '1', '--workers', '1'],
    ...['--no-peer', '--no-extract', '--no-evaluate', '--no-queue', '--no-compare', '--json'],
    ...['--convergence-epochs', String(cap)],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as ConvergenceLine)
    .filter((l) => l.name === 'convergence');
  assert.deepEqual(
    lines.map((l) => l.init),
    ['reference', 'glorot'],
  );
  for (const l of lines) {
    assert.equal(l.metric, 'validation accuracy (video level)');
    assert.equal(l.target, 0.9);
    assert.equal(l.max_epochs, cap);
    assert.equal(l.setup.dim, 32);
    assert.equal(l.valid_accuracy.length, l.train_loss.length);
    const reachedAt = l.valid_accuracy.findIndex((a) => a >= 0.9);
    if (l.epochs_to_target === null) {
      assert.equal(reachedAt, -1, l.init);
      assert.equal(l.valid_accuracy.length, cap, `${l.init}: every capped epoch is reported`);
    } else {
      assert.equal(l.epochs_to_target, reachedAt + 1, l.init);
      assert.equal(l.valid_accuracy.length, l.epochs_to_target, `${l.init}: training stops at the target`);
    }
    // Accuracies are fractions of the valid videos (printed to four digits).
    const n = l.setup.valid_videos;
    for (const a of l.valid_accuracy)
      assert.ok(Math.abs(a * n - Math.round(a * n)) < 0.01, `${a} of ${n} videos`);
  }
});

test('bench rejects a bad --convergence-epochs before running anything', () => {
  const r = runGlimpse(['bench', '--convergence-epochs', '0']);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr.trim(), /^[^\n]*--convergence-epochs[^\n]*$/);
});
