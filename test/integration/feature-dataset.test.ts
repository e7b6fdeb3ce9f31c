/**
 * The feature dataset layer on real files: the reference fixture (written by h5py), a dataset written
 * by h5py (gzip, chunked) against the same data written by our writer, and one test per kind of bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFile, mkdtemp, readFile, rm, truncate, writeFile, stat } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { enumerateClips, readClipBatch } from '../../model/data/clips.ts';
import { loadH5wasm } from '../../model/data/hdf5.ts';
import { openSplit, type OpenSplitOptions } from '../../model/data/split.ts';
import {
  FeatureSplitWriter,
  writeClasses,
  writeDatasetJson,
  writeFeatureDataset,
} from '../../model/data/writer.ts';
import { FIXTURES as FIXTURE_ROOT } from '../support/cli.ts';

const PYTHON = '/usr/bin/python3';
const FIXTURES = path.join(FIXTURE_ROOT, 'reference');

function python(script: string, ...args: string[]): string {
  return execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
}

async function tempDir(): Promise<string> {
  return mkdtemp(path.join(os.tmpdir(), 'glimpse-features-'));
}

function floats(buf: Buffer): Float32Array {
  return new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
}

test('the reference fixture reads with the reference layout and clip windows', async () => {
  const dir = await tempDir();
  const split = await openSplit(path.join(FIXTURES, 'single'), 'test');
  try {
    assert.equal(split.L, 49);
    assert.equal(split.D, 512);
    assert.equal(split.multilabel, false);
    assert.deepEqual(
      split.videos.map((v) => [v.index, v.file, v.frames, v.firstRow, v.label]),
      [
        [0, 'class0/video_00.avi', 30, 0, 4],
        [1, 'class0/video_01.avi', 34, 30, 0],
        [2, 'class0/video_02.avi', 12, 64, 4],
      ],
    );
    assert.equal(split.totalFrames, 76);
    assert.deepEqual(split.classNames, []);

    // What util/data_handler.py's GetBatch gives at maxlen 30, stride 1 (reshape order='F'), from h5py.
    const expected = path.join(dir, 'batch.f32');
    python(
      `
import sys, h5py, numpy as np
d = h5py.File(sys.argv[1], 'r')['features']
starts, lengths, start = [], [], 0
for f in [30, 34, 12]:
    end = max(start + f - 30 + 1, start + 1)
    for s in range(start, end): starts.append(s); lengths.append(f)
    start += f
x = np.zeros((30, len(starts), d.shape[1]), np.float32)
for j, (s, n) in enumerate(zip(starts, lengths)):
    if n >= 30: x[:, j] = d[s:s + 30]
    else:
        x[:n, j] = d[s:s + n]; x[n:, j] = x[n - 1, j]
x = x.reshape([30, len(starts), 49, 512], order='F').astype('float32')
np.ascontiguousarray(x).tofile(sys.argv[2])
`,
      path.join(FIXTURES, 'single', 'test_features.h5'),
      expected,
    );
    const clips = enumerateClips(split, 30, 1);
    assert.equal(clips.length, 7);
    const batch = readClipBatch(split, clips, 30);
    assert.deepEqual([batch.T, batch.B, batch.L, batch.D], [30, 7, 49, 512]);
    assert.deepEqual(batch.x, floats(await readFile(expected)));
    assert.deepEqual(
      enumerateClips(split, 30, 2).map((c) => [c.video, c.start]),
      [
        [0, 0],
        [1, 0],
        [1, 2],
        [1, 4],
        [2, 0],
      ],
    );
  } finally {
    split.close();
    await rm(dir, { recursive: true, force: true });
  }
});

test('the multi-label fixture reads its 0/1 flags', async () => {
  using split = await openSplit(path.join(FIXTURES, 'multilabel'), 'test');
  assert.equal(split.multilabel, true);
  assert.equal(split.nClasses, 12);
  assert.deepEqual(split.videos[0].label, [0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0, 1]);
  assert.deepEqual(
    split.videos.map((v) => v.frames),
    [30, 20],
  );
});

test('a dataset written by h5py (gzip, chunked) and the same data written by us read identically', async () => {
  const dir = await tempDir();
  const [L, D] = [5, 7];
  const frameCounts = [4, 9, 2];
  try {
    const pyDir = path.join(dir, 'py');
    const tsDir = path.join(dir, 'ts');
    const raw = path.join(dir, 'location-major.f32');
    python(
      `
import sys, os, h5py, numpy as np
out, raw = sys.argv[1], sys.argv[2]
os.makedirs(out)
rng = np.random.default_rng(7)
frames = [4, 9, 2]
x = rng.standard_normal((sum(frames), 5, 7)).astype(np.float32)  # (F, L, D)
x.tofile(raw)
rows = x.transpose(0, 2, 1).reshape(sum(frames), 35)  # channel-major: (l, c) at l + L*c
with h5py.File(os.path.join(out, 'test_features.h5'), 'w') as f:
    f.create_dataset('features', data=rows, maxshape=(None, 35), chunks=(3, 35), compression='gzip')
open(os.path.join(out, 'test_framenum.txt'), 'w').write(''.join('%d\\n' % n for n in frames))
open(os.path.join(out, 'test_labels.txt'), 'w').write('1\\n0\\n2\\n')
open(os.path.join(out, 'test_filename.txt'), 'w').write('a.avi\\nb.avi\\nc.avi\\n')
`,
      pyDir,
      raw,
    );
    const all = floats(await readFile(raw));
    let first = 0;
    const videos = frameCounts.map((n, i) => {
      const frames = all.slice(first * L * D, (first + n) * L * D);
      first += n;
      return { file: ['a.avi', 'b.avi', 'c.avi'][i], label: [1, 0, 2][i], frames };
    });
    await writeFeatureDataset(tsDir, 'test', videos, L, D, { compression: 'gzip' });
    await writeClasses(tsDir, ['jump', 'run', 'swim']);
    await writeDatasetJson(tsDir, {
      backbone: 'test',
      frameSize: { width: 224, height: 224 },
      fps: 30,
      locations: L,
      ctxDim: D,
      layout: 'channel-major',
      provenance: { writer: 'feature-dataset.test.ts' },
    });

    {
      using fromPy = await openSplit(pyDir, 'test', { locations: L, ctxDim: D });
      using fromTs = await openSplit(tsDir, 'test'); // L and D from dataset.json
      assert.deepEqual([fromTs.L, fromTs.D], [L, D]);
      assert.deepEqual(fromTs.classNames, ['jump', 'run', 'swim']);
      assert.deepEqual(fromTs.videos, fromPy.videos);
      assert.deepEqual(fromPy.readRows(0, 15), all);
      assert.deepEqual(fromTs.readRows(0, 15), all);
      assert.deepEqual(fromTs.readRows(5, 7), fromPy.readRows(5, 7));
    }

    // h5py reads our file: same rows, float32, chunked, gzip, unlimited rows.
    const report = python(
      `
import sys, h5py, numpy as np
a = h5py.File(sys.argv[1], 'r')['features']
b = h5py.File(sys.argv[2], 'r')['features']
assert a.dtype == np.float32 and a.maxshape == (None, 35) and a.chunks is not None and a.compression == 'gzip', (a.dtype, a.maxshape, a.chunks, a.compression)
print(np.array_equal(a[:], b[:]), a.shape)
`,
      path.join(tsDir, 'test_features.h5'),
      path.join(pyDir, 'test_features.h5'),
    );
    assert.equal(report.trim(), 'True (15, 35)');

    // Our writer appends to the h5py file (chunked, gzip, unlimited rows), and h5py reads the result.
    const writer = await FeatureSplitWriter.resume(pyDir, 'test', { L, D });
    assert.equal(writer.rows, 15);
    writer.addVideo('d.avi', 1, all.subarray(0, 2 * L * D));
    await writer.finish();
    const appended = python(
      `
import sys, h5py, numpy as np
d = h5py.File(sys.argv[1], 'r')['features']
print(d.shape, np.array_equal(d[15:17], d[0:2]))
`,
      path.join(pyDir, 'test_features.h5'),
    );
    assert.equal(appended.trim(), '(17, 35) True');
    assert.equal(await readFile(path.join(pyDir, 'test_framenum.txt'), 'utf8'), '4\n9\n2\n2\n');
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

// ---- bad input: each opens a broken copy of a small valid split and expects a one-line error naming the file.

const L = 4;
const D = 3;

async function validSplit(): Promise<string> {
  const dir = await tempDir();
  const frames = (n: number) => new Float32Array(n * L * D).fill(1);
  await writeFeatureDataset(
    dir,
    'test',
    [
      { file: 'a.avi', label: 0, frames: frames(3) },
      { file: 'b.avi', label: 2, frames: frames(5) },
    ],
    L,
    D,
  );
  return dir;
}

async function expectError(
  name: string,
  breakIt: (dir: string) => Promise<void>,
  file: string,
  message: RegExp,
  opts: OpenSplitOptions = { locations: L, ctxDim: D },
): Promise<void> {
  await test(name, async () => {
    const dir = await validSplit();
    try {
      await breakIt(dir);
      await assert.rejects(openSplit(dir, 'test', opts), (err: Error) => {
        assert.ok(!err.message.includes('\n'), `one line: ${err.message}`);
        assert.ok(err.message.includes(path.join(dir, file)), `names ${file}: ${err.message}`);
        assert.match(err.message, message);
        return true;
      });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
}

const h5 = (dir: string) => path.join(dir, 'test_features.h5');

/** Replaces the features file with one holding `name` of the given shape. */
async function replaceFeatures(dir: string, name: string, shape: number[]): Promise<void> {
  const lib = await loadH5wasm();
  const f = new lib.File(h5(dir), 'w');
  const size = shape.reduce((a, b) => a * b, 1);
  f.create_dataset({ name, data: new Float32Array(size), shape, dtype: '<f' });
  f.close();
}

await expectError(
  'missing labels file',
  (dir) => rm(path.join(dir, 'test_labels.txt')),
  'test_labels.txt',
  /not found/,
);
await expectError('missing features file', (dir) => rm(h5(dir)), 'test_features.h5', /not found/);
await expectError(
  'truncated features file',
  async (dir) => truncate(h5(dir), Math.floor((await stat(h5(dir))).size / 2)),
  'test_features.h5',
  /truncated HDF5 file/,
);
await expectError(
  'features file that is not HDF5',
  (dir) => writeFile(h5(dir), 'this is not an HDF5 file\n'.repeat(100)),
  'test_features.h5',
  /not an HDF5 file/,
);
await expectError(
  'no features dataset',
  (dir) => replaceFeatures(dir, 'feats', [8, 12]),
  'test_features.h5',
  /no 'features' dataset/,
);
await expectError(
  'features not 2-D',
  (dir) => replaceFeatures(dir, 'features', [8, 3, 4]),
  'test_features.h5',
  /must be 2-D/,
);
await expectError(
  'row width is not L·D',
  async () => {},
  'test_features.h5',
  /row width 12 does not match L=5 locations × D=3/,
  { locations: 5, ctxDim: 3 },
);
await expectError(
  'row width not divisible by the default 49 locations',
  async () => {},
  'test_features.h5',
  /row width 12 does not match L=49/,
  {},
);
await expectError(
  'frame counts do not sum to the rows',
  (dir) => writeFile(path.join(dir, 'test_framenum.txt'), '3\n6\n'),
  'test_framenum.txt',
  /sum to 9 but .* has 8 rows/,
);
await expectError(
  'frame count that is not an integer',
  (dir) => writeFile(path.join(dir, 'test_framenum.txt'), '3\n5.0\n'),
  'test_framenum.txt',
  /line 2: frame count must be a positive integer, got '5.0'/,
);
await expectError(
  'fewer labels than videos',
  (dir) => writeFile(path.join(dir, 'test_labels.txt'), '0\n'),
  'test_labels.txt',
  /has 1 labels but .* lists 2 videos/,
);
await expectError(
  'more file names than videos',
  (dir) => writeFile(path.join(dir, 'test_filename.txt'), 'a.avi\nb.avi\nc.avi\n'),
  'test_filename.txt',
  /has 3 file names but .* lists 2 videos/,
);
await expectError(
  'label out of range',
  async () => {},
  'test_labels.txt',
  /line 2: class id 2 is outside 0..1/,
  {
    locations: L,
    ctxDim: D,
    nClasses: 2,
  },
);
await expectError(
  'label out of range of classes.txt',
  (dir) => writeClasses(dir, ['a', 'b']),
  'test_labels.txt',
  /class id 2 is outside 0..1/,
);
await expectError(
  'label that is not an integer',
  (dir) => writeFile(path.join(dir, 'test_labels.txt'), '0\nrun\n'),
  'test_labels.txt',
  /line 2: label must be an integer class id, got 'run'/,
);
await expectError(
  'malformed multi-label line',
  (dir) => writeFile(path.join(dir, 'test_labels.txt'), '0,1,1\n0,x,1\n'),
  'test_labels.txt',
  /line 2: multi-label flags must be comma-separated 0\/1/,
);
await expectError(
  'multi-label line of the wrong length',
  (dir) => writeFile(path.join(dir, 'test_labels.txt'), '0,1,1\n0,1\n'),
  'test_labels.txt',
  /line 2: has 2 flags, expected 3/,
);
await expectError(
  'empty line inside a text file',
  (dir) => writeFile(path.join(dir, 'test_framenum.txt'), '3\n\n5\n'),
  'test_framenum.txt',
  /line 2 is empty/,
);
await expectError(
  'dataset.json with a bad layout',
  (dir) =>
    writeFile(
      path.join(dir, 'dataset.json'),
      JSON.stringify({ locations: 4, ctxDim: 3, layout: 'location-major' }),
    ),
  'dataset.json',
  /layout 'location-major' is not supported/,
  {},
);

test('another split of the same directory opens; rows outside it and reads after close are refused', async () => {
  const dir = await validSplit();
  try {
    await copyFile(h5(dir), path.join(dir, 'valid_features.h5'));
    for (const f of ['framenum', 'labels', 'filename']) {
      await copyFile(path.join(dir, `test_${f}.txt`), path.join(dir, `valid_${f}.txt`));
    }
    const split = await openSplit(dir, 'valid', { locations: L, ctxDim: D });
    assert.equal(split.totalFrames, 8);
    assert.throws(() => split.readRows(6, 3), /outside 0..7/);
    split.close();
    assert.throws(() => split.readRows(0, 1), /closed/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
