import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadH5wasm } from './hdf5.ts';
import { openSplit } from './split.ts';
import { FeatureSplitWriter, journalPath, writeFeatureDataset } from './writer.ts';

const L = 4;
const D = 3;

/** Location-major frames tagged with (seed, frame, l, c). */
function frames(n: number, seed: number): Float32Array {
  const out = new Float32Array(n * L * D);
  for (let f = 0; f < n; f++) {
    for (let l = 0; l < L; l++)
      for (let c = 0; c < D; c++) out[(f * L + l) * D + c] = seed * 1000 + f * 100 + l * 10 + c;
  }
  return out;
}

async function withDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-writer-'));
  try {
    await body(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

test('rows on disk are channel-major in a chunked, resizable float32 dataset', () =>
  withDir(async (dir) => {
    await writeFeatureDataset(dir, 'train', [{ file: 'a/v.avi', label: 2, frames: frames(3, 1) }], L, D, {
      compression: 'gzip',
    });
    const h5wasm = await loadH5wasm();
    const f = new h5wasm.File(path.join(dir, 'train_features.h5'), 'r');
    try {
      const ds = f.get('features') as InstanceType<typeof h5wasm.Dataset>;
      assert.deepEqual(ds.shape, [3, L * D]);
      assert.equal(ds.dtype, '<f');
      assert.ok(ds.metadata.chunks !== null);
      assert.ok((ds.metadata.maxshape as number[])[0] > 1e15, 'unlimited rows');
      const row1 = ds.slice([[1, 2]]) as Float32Array;
      // Frame 1, location 3, channel 2 → index 3 + 4·2.
      assert.equal(row1[3 + L * 2], 1000 + 100 + 32);
      assert.equal(row1[0], 1100);
      assert.equal(row1[1], 1110); // location 1, channel 0
    } finally {
      f.close();
    }
    assert.equal(await readFile(path.join(dir, 'train_framenum.txt'), 'utf8'), '3\n');
    assert.equal(await readFile(path.join(dir, 'train_labels.txt'), 'utf8'), '2\n');
    assert.equal(await readFile(path.join(dir, 'train_filename.txt'), 'utf8'), 'a/v.avi\n');
    assert.equal(existsSync(journalPath(dir, 'train')), false);
  }));

const writerModule = path.join(path.dirname(fileURLToPath(import.meta.url)), 'writer.ts');

test('after a crash mid-video, resume keeps the complete videos and drops the partial rows', () =>
  withDir(async (dir) => {
    // A child process writes two whole videos, half of a third, then dies without closing anything.
    const script = path.join(dir, 'crash.mts');
    await writeFile(
      script,
      `import { FeatureSplitWriter } from ${JSON.stringify(writerModule)};
const [L, D] = [${L}, ${D}];
const tagged = (n: number, seed: number) => {
  const out = new Float32Array(n * L * D);
  for (let f = 0; f < n; f++) for (let l = 0; l < L; l++) for (let c = 0; c < D; c++) out[(f * L + l) * D + c] = seed * 1000 + f * 100 + l * 10 + c;
  return out;
};
const w = await FeatureSplitWriter.create(${JSON.stringify(dir)}, 'test', { L, D, chunkRows: 2 });
w.addVideo('v0.avi', 0, tagged(5, 0));
w.addVideo('v1.avi', 1, tagged(3, 1));
w.beginVideo('v2.avi', 1);
w.appendFrames(tagged(4, 2));
process.kill(process.pid, 'SIGKILL');
`,
    );
    const child = spawnSync(process.execPath, ['--import', 'tsx', script], { encoding: 'utf8' });
    assert.equal(child.signal, 'SIGKILL', child.stderr);

    const writer = await FeatureSplitWriter.resume(dir, 'test', { L, D });
    assert.equal(writer.rows, 8);
    assert.deepEqual(
      writer.videos.map((v) => [v.file, v.frames]),
      [
        ['v0.avi', 5],
        ['v1.avi', 3],
      ],
    );
    writer.addVideo('v2.avi', 1, frames(6, 2));
    await writer.finish();

    const split = await openSplit(dir, 'test', { locations: L, ctxDim: D });
    try {
      assert.equal(split.totalFrames, 14);
      assert.deepEqual(
        split.videos.map((v) => [v.file, v.frames, v.firstRow, v.label]),
        [
          ['v0.avi', 5, 0, 0],
          ['v1.avi', 3, 5, 1],
          ['v2.avi', 6, 8, 1],
        ],
      );
      assert.deepEqual(split.readRows(0, 5), frames(5, 0));
      assert.deepEqual(split.readRows(5, 3), frames(3, 1));
      assert.deepEqual(split.readRows(8, 6), frames(6, 2));
    } finally {
      split.close();
    }
  }));

test('a finished split can be reopened and appended to', () =>
  withDir(async (dir) => {
    const ml = [1, 0, 1];
    await writeFeatureDataset(dir, 'train', [{ file: 'x.avi', label: ml, frames: frames(2, 7) }], L, D);
    const writer = await FeatureSplitWriter.resume(dir, 'train', { L, D });
    assert.equal(writer.rows, 2);
    assert.deepEqual(writer.videos, [{ file: 'x.avi', label: ml, frames: 2 }]);
    assert.throws(() => writer.beginVideo('y.avi', 1), /class id in a multi-label split/);
    assert.throws(() => writer.beginVideo('y.avi', [1, 0]), /3 0\/1 flags/);
    writer.addVideo('y.avi', [0, 0, 1], frames(4, 8));
    await writer.finish();
    assert.equal(await readFile(path.join(dir, 'train_labels.txt'), 'utf8'), '1,0,1\n0,0,1\n');
    const split = await openSplit(dir, 'train', { locations: L, ctxDim: D });
    try {
      assert.equal(split.multilabel, true);
      assert.deepEqual(split.readRows(2, 4), frames(4, 8));
    } finally {
      split.close();
    }
  }));

test('an aborted video leaves no rows and wrong-sized frames are refused', () =>
  withDir(async (dir) => {
    const writer = await FeatureSplitWriter.create(dir, 'test', { L, D });
    writer.addVideo('a.avi', 0, frames(2, 0));
    writer.beginVideo('b.avi', 0);
    writer.appendFrames(frames(3, 1));
    writer.abortVideo();
    writer.beginVideo('c.avi', 0);
    assert.throws(() => writer.appendFrames(new Float32Array(L * D + 1)), /not whole frames/);
    writer.appendFrames(frames(1, 2));
    writer.endVideo();
    await writer.finish();
    const split = await openSplit(dir, 'test', { locations: L, ctxDim: D });
    try {
      assert.equal(split.totalFrames, 3);
      assert.deepEqual(split.readRows(2, 1), frames(1, 2));
    } finally {
      split.close();
    }
  }));

test('resume starts over when the features file is unreadable and no video was complete', () =>
  withDir(async (dir) => {
    await writeFile(path.join(dir, 'test_features.h5'), 'half-written');
    const writer = await FeatureSplitWriter.resume(dir, 'test', { L, D });
    assert.equal(writer.rows, 0);
    writer.addVideo('a.avi', 0, frames(2, 0));
    await writer.finish();
    const split = await openSplit(dir, 'test', { locations: L, ctxDim: D });
    try {
      assert.deepEqual(split.readRows(0, 2), frames(2, 0));
    } finally {
      split.close();
    }
  }));
