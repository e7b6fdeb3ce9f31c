// `glimpse import` on real h5py-written files: spatially smooth synthetic maps (moving blobs, each channel a
// fixed mix of them) written in every layout and storage order are recognised (the right candidate ranked
// first), convert to exactly the bytes of the reference layout of the same data, and bad input gets one line.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { CancelledError } from '../../common/progress.ts';
import { openSplit } from '../../model/data/split.ts';
import { importFeatures } from '../../main/features/import/convert.ts';
import { detectLayouts } from '../../main/features/import/detect.ts';
import { openImportSource } from '../../main/features/import/source.ts';
import { runGlimpse, runPython } from '../support/cli.ts';

const FORMS = [
  'rows-channel-7x7-c',
  'rows-channel-7x7-f',
  'rows-location-7x7-c',
  'rows-location-7x7-f',
  'kkd-c',
  'kkd-f',
  'dkk-c',
  'dkk-f',
];

// The same (frames, K, K, D) maps in each form; reference.h5 holds them in the reference layout.
const WRITE_FORMS = String.raw`
import sys, numpy as np, h5py
out, frames, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
K, D, blobs = 7, 16, 4
r = np.random.default_rng(seed)
pos = r.uniform(0, K - 1, (blobs, 2)); vel = r.uniform(-0.05, 0.05, (blobs, 2))
mix = r.uniform(0, 1, (blobs, D))
yy, xx = np.mgrid[0:K, 0:K]
a = np.zeros((frames, K, K, D), np.float32)
for f in range(frames):
    p = pos + vel * f
    g = np.stack([np.exp(-((yy - p[b, 0])**2 + (xx - p[b, 1])**2) / (2 * 1.2**2)) for b in range(blobs)], -1)
    a[f] = (g @ mix + 0.02 * r.standard_normal((K, K, D))).astype(np.float32)
L = K * K
ref = a.reshape(frames, L, D).transpose(0, 2, 1).reshape(frames, L * D)
rows = a.reshape(frames, L * D)
dkk = a.transpose(0, 3, 1, 2)
forms = {'rows-channel-7x7-c': ref, 'rows-channel-7x7-f': ref.T, 'rows-location-7x7-c': rows,
         'rows-location-7x7-f': rows.T, 'kkd-c': a, 'kkd-f': a.T, 'dkk-c': dkk, 'dkk-f': dkk.T}
for name, arr in forms.items():
    with h5py.File(f'{out}/{name}.h5', 'w') as h: h['features'] = np.ascontiguousarray(arr)
with h5py.File(f'{out}/reference.h5', 'w') as h: h['features'] = np.ascontiguousarray(ref)
with h5py.File(f'{out}/rank3.h5', 'w') as h: h['features'] = a.reshape(frames, L, D)
with h5py.File(f'{out}/no-square.h5', 'w') as h: h['features'] = np.zeros((10, 3, 5, 8), np.float32)
with h5py.File(f'{out}/prime-width.h5', 'w') as h: h['features'] = np.zeros((10, 13), np.float32)
`;

// Bit-for-bit equality of two float32 'features' datasets (as uint32 words).
const SAME_BITS = String.raw`
import sys, numpy as np, h5py
a = h5py.File(sys.argv[1], 'r')['features'][()]; b = h5py.File(sys.argv[2], 'r')['features'][()]
print('same' if a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32)) else f'differ {a.dtype} {a.shape} {b.dtype} {b.shape}')
`;

const FRAMES = 120;

describe('glimpse import', () => {
  let dir: string;
  let text: string[];

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-import-'));
    runPython(WRITE_FORMS, [dir, String(FRAMES), '7']);
    await writeFile(path.join(dir, 'framenum.txt'), '40\n50\n30\n');
    await writeFile(path.join(dir, 'labels.txt'), '0\n1\n0\n');
    await writeFile(path.join(dir, 'filename.txt'), 'a/one.avi\nb/two.avi\na/three.avi\n');
    await writeFile(path.join(dir, 'classes.txt'), 'left\nright\n');
    text = ['--framenum', 'framenum.txt', '--labels', 'labels.txt', '--filename', 'filename.txt']
      .map((s) => (s.startsWith('--') ? s : path.join(dir, s)))
      .concat(['--classes', path.join(dir, 'classes.txt')]);
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('the right interpretation ranks first for every layout and order, with and without the frame counts', async () => {
    for (const form of FORMS) {
      using source = await openImportSource(path.join(dir, `${form}.h5`));
      const blind = detectLayouts(source);
      assert.equal(
        blind.candidates[0].id,
        form,
        `${form}: ranked ${blind.candidates.map((c) => c.id).join(', ')}`,
      );
      assert.ok(blind.candidates[0].spatial > 0.3, `${form}: spatial ${blind.candidates[0].spatial}`);
      const told = detectLayouts(source, { expectedFrames: FRAMES });
      assert.equal(told.candidates[0].id, form);
      assert.equal(told.candidates[0].conflict, null);
      // A scrambled reading of the same values scores clearly lower.
      const others = told.candidates.filter((c) => c.conflict === null && c.id !== form);
      for (const other of others)
        assert.ok(other.score < told.candidates[0].score - 0.1, `${form} vs ${other.id}`);
      assert.equal(told.candidates[0].preview.length, 3);
      assert.equal(told.candidates[0].preview[0].pc1.length, 49);
    }
  });

  test('each form converts to the bytes of the reference layout, with the text files', async () => {
    for (const form of ['kkd-f', 'rows-location-7x7-f', 'dkk-c', 'rows-channel-7x7-c']) {
      const out = path.join(dir, `out-${form}`);
      const r = runGlimpse([
        'import',
        '--features',
        path.join(dir, `${form}.h5`),
        '--out',
        out,
        '--split',
        'train',
        ...text,
      ]);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, new RegExp(`3 videos, 120 frames of 49×16 read as ${form}`));
      const same = runPython(SAME_BITS, [
        path.join(out, 'train_features.h5'),
        path.join(dir, 'reference.h5'),
      ]);
      assert.equal(same.trim(), 'same', form);
      assert.equal(await readFile(path.join(out, 'train_framenum.txt'), 'utf8'), '40\n50\n30\n');
      assert.equal(await readFile(path.join(out, 'train_labels.txt'), 'utf8'), '0\n1\n0\n');
      assert.equal(
        await readFile(path.join(out, 'train_filename.txt'), 'utf8'),
        'a/one.avi\nb/two.avi\na/three.avi\n',
      );
      assert.equal(await readFile(path.join(out, 'classes.txt'), 'utf8'), 'left\nright\n');
      const info = JSON.parse(await readFile(path.join(out, 'dataset.json'), 'utf8')) as Record<
        string,
        unknown
      >;
      assert.equal(info.locations, 49);
      assert.equal(info.ctxDim, 16);
      assert.deepEqual(await readdir(out).then((n) => n.filter((x) => x.startsWith('.'))), []);
      using split = await openSplit(out, 'train');
      assert.equal(split.totalFrames, FRAMES);
      assert.deepEqual(split.classNames, ['left', 'right']);
    }
  });

  test('--from takes the text files of a reference-layout folder; a second split joins the same dataset', async () => {
    const out = path.join(dir, 'from-out');
    const r = runGlimpse([
      'import',
      '--features',
      path.join(dir, 'kkd-f.h5'),
      '--out',
      out,
      '--split',
      'test',
      '--from',
      path.join(dir, 'out-kkd-f'),
      '--from-split',
      'train',
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(
      runPython(SAME_BITS, [path.join(out, 'test_features.h5'), path.join(dir, 'reference.h5')]).trim(),
      'same',
    );
    assert.equal(
      await readFile(path.join(out, 'test_filename.txt'), 'utf8'),
      'a/one.avi\nb/two.avi\na/three.avi\n',
    );
    const again = runGlimpse([
      'import',
      '--features',
      path.join(dir, 'dkk-f.h5'),
      '--out',
      out,
      '--split',
      'valid',
      ...text,
    ]);
    assert.equal(again.code, 0, again.stderr);
    // The dataset's L×D rules out readings of another shape: forcing one is refused.
    const forced = runGlimpse([
      'import',
      '--features',
      path.join(dir, 'rows-channel-7x7-c.h5'),
      '--out',
      out,
      '--split',
      'extra',
      '--layout',
      'rows-channel-14x14-c',
      ...text,
    ]);
    assert.equal(forced.code, 1);
    assert.match(
      forced.stderr,
      /layout 'rows-channel-14x14-c' does not fit: 196×4 per frame, but the dataset has L=49, D=16/,
    );
    assert.equal(existsSync(path.join(out, 'extra_features.h5')), false);
  });

  test('--dry-run lists the ranked candidates and writes nothing; --layout forces one', async () => {
    const out = path.join(dir, 'dry');
    const r = runGlimpse([
      'import',
      '--features',
      path.join(dir, 'kkd-f.h5'),
      '--out',
      out,
      '--dry-run',
      ...text,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.match(lines[0], /'features' float32 \[16, 7, 7, 120\]/);
    assert.match(lines[1], /^ 1\. kkd-f /);
    assert.match(lines[2], /^ 2\. kkd-c .*does not fit: 16 frames, but the frame counts sum to 120/);
    assert.equal(existsSync(out), false);
    const forced = path.join(dir, 'forced');
    const f = runGlimpse([
      'import',
      '--features',
      path.join(dir, 'rows-channel-7x7-c.h5'),
      '--out',
      forced,
      '--split',
      'train',
      '--layout',
      'rows-channel-14x14-c',
      ...text,
    ]);
    assert.equal(f.code, 0, f.stderr);
    using split = await openSplit(forced, 'train');
    assert.equal(split.L, 196);
    assert.equal(split.D, 4);
  });

  test('bad input: one line naming the file, nothing written', async () => {
    const notHdf5 = path.join(dir, 'not.h5');
    await writeFile(notHdf5, 'these are not features\n');
    await writeFile(path.join(dir, 'short-framenum.txt'), '40\n50\n');
    await writeFile(path.join(dir, 'two-labels.txt'), '0\n1\n');
    const cases: [string[], RegExp][] = [
      [['--features', notHdf5], /not\.h5: not an HDF5 file/],
      [
        ['--features', path.join(dir, 'rank3.h5')],
        /rank3\.h5: the features array has rank 3 \(shape \[120, 49, 16\]\)/,
      ],
      [
        ['--features', path.join(dir, 'no-square.h5')],
        /no-square\.h5: shape \[10, 3, 5, 8\] has no square grid/,
      ],
      [
        ['--features', path.join(dir, 'prime-width.h5')],
        /prime-width\.h5: shape \[10, 13\] has no square grid/,
      ],
      [
        ['--features', path.join(dir, 'kkd-f.h5'), '--key', 'feats'],
        /kkd-f\.h5: no dataset 'feats' \(has 'features'\)/,
      ],
    ];
    for (const [args, pattern] of cases) {
      const out = path.join(dir, 'bad-out');
      const r = runGlimpse(['import', ...args, '--out', out, '--split', 'train', ...text]);
      assert.equal(r.code, 1, r.stdout);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr, pattern);
      assert.equal(existsSync(path.join(out, 'train_features.h5')), false);
    }
    const wrongCounts = runGlimpse([
      'import',
      '--features',
      path.join(dir, 'kkd-f.h5'),
      '--out',
      path.join(dir, 'bad-out'),
      '--split',
      'train',
      '--framenum',
      path.join(dir, 'short-framenum.txt'),
      '--labels',
      path.join(dir, 'two-labels.txt'),
    ]);
    assert.equal(wrongCounts.code, 1);
    assert.match(wrongCounts.stderr, /kkd-f\.h5: no layout fits: .* frame counts sum to 90/);
    const exists = runGlimpse([
      'import',
      '--features',
      path.join(dir, 'kkd-f.h5'),
      '--out',
      path.join(dir, 'out-kkd-f'),
      '--split',
      'train',
      ...text,
    ]);
    assert.equal(exists.code, 1);
    assert.match(exists.stderr, /train_features\.h5: split 'train' exists already/);
  });

  test('a cancelled import leaves neither the split nor its staging folder', async () => {
    const out = path.join(dir, 'cancelled');
    const controller = new AbortController();
    await assert.rejects(
      importFeatures(
        {
          features: path.join(dir, 'kkd-f.h5'),
          text: {
            kind: 'files',
            framenum: path.join(dir, 'framenum.txt'),
            labels: path.join(dir, 'labels.txt'),
          },
          outDir: out,
          split: 'train',
        },
        { signal: controller.signal, onProgress: () => controller.abort() },
      ),
      CancelledError,
    );
    assert.deepEqual(await readdir(out), []);
  });
});
