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
import { runGlimpse, runPython } from '../support/cli.ts';

const MAKE_DATASET = `
import sys, json, numpy as np, h5py
out = sys.argv[1]
L, D, C, F = 16, 24, 4, 16
rng = np.random.RandomState(7)
protos = rng.randn(C, D - 4).astype(np.float32) * 1.5
def video(label):
    loc = rng.randint(L)
    x = np.maximum(rng.randn(F, L, D), 0).astype(np.float32) * 0.5
    x[:, loc, :4] += 3.0
    x[:, loc, 4:] += protos[label]
    for f in range(F):
        others = [l for l in range(L) if l != loc]
        for l in rng.choice(others, 3, replace=False):
            x[f, l, 4:] += protos[rng.randint(C)]
    return x, loc
signal = {}
for split, per in (('train', 24), ('valid', 6), ('test', 10)):
    labels = [c for c in range(C) for _ in range(per)]
    rng.shuffle(labels)
    rows, locs = [], []
    for y in labels:
        x, loc = video(y)
        rows.append(x.transpose(0, 2, 1).reshape(F, D * L))  # channel-major: (l, c) at l + L*c
        locs.append(int(loc))
    with h5py.File(f'{out}/{split}_features.h5', 'w') as h:
        h.create_dataset('features', data=np.concatenate(rows), maxshape=(None, L * D), chunks=(16, L * D), compression='gzip')
    open(f'{out}/{split}_framenum.txt', 'w').write(''.join(f'{F}\\n' for _ in labels))
    open(f'{out}/{split}_labels.txt', 'w').write(''.join(f'{y}\\n' for y in labels))
    open(f'{out}/{split}_filename.txt', 'w').write(''.join(f'v{i}.avi\\n' for i in range(len(labels))))
    signal[split] = locs
open(f'{out}/classes.txt', 'w').write('a\\nb\\nc\\nd\\n')
json.dump({'locations': L, 'ctxDim': D, 'layout': 'channel-major'}, open(f'{out}/dataset.json', 'w'))
json.dump(signal, open(f'{out}/signal.json', 'w'))
`;

const tmp = mkdtempSync(join(tmpdir(), 'glimpse-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('training finds the class signal and attends to it', () => {
  runPython(MAKE_DATASET, [tmp]);
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
  // Uniform attention would put 1/16 = 0.0625 on the signal location.
  assert.ok(share >= 0.5, `mean attention on the signal location ${share}`);
});
