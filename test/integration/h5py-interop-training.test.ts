/**
 * A feature dataset written by h5py (gzip, chunked, reference layout) trains and predicts exactly like the same
 * data rewritten by our writer (uncompressed): same checkpoint bytes-for-values, same predictions.
 */
import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { openSplit } from '../../model/data/split.ts';
import { writeFeatureDataset } from '../../model/data/writer.ts';
import { runGlimpse, runPython } from '../support/cli.ts';
import { makeSignalDataset, smallTrainArgs } from '../support/signal-dataset.ts';

const tmp = mkdtempSync(join(tmpdir(), 'glimpse-interop-train-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

/** Rewrites every split of `from` with our writer into `to`, row for row. */
async function rewriteWithOurWriter(from: string, to: string): Promise<void> {
  mkdirSync(to, { recursive: true });
  for (const name of ['train', 'valid', 'test']) {
    using split = await openSplit(from, name);
    const videos = split.videos.map((v) => ({
      file: v.file,
      label: v.label,
      frames: split.readRows(v.firstRow, v.frames).slice(),
    }));
    await writeFeatureDataset(to, name, videos, split.L, split.D);
  }
  for (const f of ['classes.txt', 'dataset.json']) copyFileSync(join(from, f), join(to, f));
}

const SAME_PARAMETERS = `
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
names = sorted(k for k in a.keys() if isinstance(a[k], h5py.Dataset))
assert names == sorted(k for k in b.keys() if isinstance(b[k], h5py.Dataset))
for k in names:
    assert np.array_equal(a[k][()], b[k][()]), k
print(len(names))
`;

test('h5py-written (gzip, chunked) and our uncompressed features train and predict identically', async () => {
  const theirs = join(tmp, 'h5py');
  const ours = join(tmp, 'ours');
  mkdirSync(theirs);
  makeSignalDataset(theirs);
  await rewriteWithOurWriter(theirs, ours);
  const layout = runPython(
    "import h5py, sys\nd = h5py.File(sys.argv[1], 'r')['features']\nprint(d.compression, d.chunks is not None, h5py.File(sys.argv[2], 'r')['features'].compression)",
    [join(theirs, 'train_features.h5'), join(ours, 'train_features.h5')],
  );
  assert.equal(layout.trim(), 'gzip True None');

  const reports: string[] = [];
  for (const dir of [theirs, ours]) {
    const model = join(dir, 'model.h5');
    const trained = runGlimpse(smallTrainArgs(dir, model, 2, 5));
    assert.equal(trained.code, 0, trained.stderr);
    const out = join(dir, 'test.json');
    const predicted = runGlimpse([
      'predict',
      '--model',
      model,
      '--dataset',
      dir,
      '--split',
      'test',
      '--stride',
      '4',
      '--out',
      out,
    ]);
    assert.equal(predicted.code, 0, predicted.stderr);
    const report = JSON.parse(readFileSync(out, 'utf8'));
    reports.push(JSON.stringify({ videos: report.videos, metrics: report.metrics }));
  }
  runPython(SAME_PARAMETERS, [join(theirs, 'model.h5'), join(ours, 'model.h5')]);
  assert.equal(reports[0], reports[1]);
});
