// The Datasets view's engine side on real files: a feature dataset's numbers equal its files, the UCF-11
// group check passes or lists every leaking group, a folder of videos is recognised by kind, and the
// import preview ranks a Fortran-order file's reading first with its preview maps.
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { writeDatasetJson, writeFeatureDataset } from '../../model/data/writer.ts';
import type { JobInfo } from '../../main/engine/api.ts';
import { describeDataset, previewImport } from '../../main/engine/dataset-views.ts';
import { createEngine, type Engine } from '../../main/engine/engine.ts';
import { GlimpseError } from '../../main/engine/errors.ts';
import { openSplit } from '../../model/data/split.ts';
import { runGlimpse, runPython } from '../support/cli.ts';

function ended(engine: Engine, id: string): Promise<JobInfo> {
  return new Promise((resolve) => {
    const check = (job: JobInfo) => {
      if (job.id === id && ['done', 'failed', 'cancelled'].includes(job.state)) {
        off();
        resolve(job);
      }
    };
    const off = engine.subscribe((e) => {
      if (e.type === 'job') check(e.job);
    });
    void engine.listJobs().then((jobs) => jobs.forEach(check));
  });
}

const L = 4;
const D = 3;

function frames(n: number, seed: number): Float32Array {
  return Float32Array.from({ length: n * L * D }, (_, i) => Math.sin(i * 0.37 + seed));
}

async function ucfSet(dir: string, testFiles: string[]): Promise<void> {
  const train = [
    'biking/v_biking_01/v_biking_01_01.avi',
    'biking/v_biking_02/v_biking_02_01.avi',
    'diving/v_diving_03/v_diving_03_01.avi',
  ];
  await writeFeatureDataset(
    dir,
    'train',
    train.map((file, i) => ({ file, label: i === 2 ? 1 : 0, frames: frames(5 + i, i) })),
    L,
    D,
  );
  await writeFeatureDataset(
    dir,
    'test',
    testFiles.map((file, i) => ({
      file,
      label: file.startsWith('diving') ? 1 : 0,
      frames: frames(7 + i, 9 + i),
    })),
    L,
    D,
  );
  await writeFile(path.join(dir, 'classes.txt'), 'biking\ndiving\n');
  await writeDatasetJson(dir, {
    backbone: 'googlenet/inception_5b',
    frameSize: { width: 224, height: 224 },
    fps: 30,
    locations: L,
    ctxDim: D,
    layout: 'channel-major',
    provenance: {},
  });
}

describe('Datasets view engine side', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-dataset-views-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a reference-layout dataset: classes, split sizes, frames per video, L×D, backbone, group check passes', async () => {
    const set = path.join(dir, 'clean');
    await ucfSet(set, ['biking/v_biking_04/v_biking_04_01.avi', 'diving/v_diving_05/v_diving_05_02.avi']);
    const o = await describeDataset(set);
    assert.equal(o.kind, 'features');
    if (o.kind !== 'features') return;
    assert.deepEqual(o.dataset.classNames, ['biking', 'diving']);
    assert.deepEqual(
      o.dataset.splits.map((s) => [s.name, s.videos, s.frames, s.locations, s.ctxDim]),
      [
        ['test', 2, 15, L, D],
        ['train', 3, 18, L, D],
      ],
    );
    assert.deepEqual(o.framesPerVideo, [
      { split: 'test', frames: [7, 8] },
      { split: 'train', frames: [5, 6, 7] },
    ]);
    assert.deepEqual(o.classCounts, [
      { split: 'test', counts: [1, 1] },
      { split: 'train', counts: [2, 1] },
    ]);
    assert.equal(o.backbone, 'googlenet/inception_5b');
    assert.equal(o.leakage.applies, true);
    assert.equal(o.leakage.ok, true);
  });

  test('the group check lists every group with clips in two splits', async () => {
    const set = path.join(dir, 'leaky');
    await ucfSet(set, [
      'biking/v_biking_01/v_biking_01_04.avi',
      'diving/v_diving_03/v_diving_03_02.avi',
      'diving/v_diving_06/v_diving_06_01.avi',
    ]);
    const o = await describeDataset(set);
    assert.ok(o.kind === 'features');
    if (o.kind !== 'features') return;
    assert.equal(o.leakage.ok, false);
    assert.deepEqual(o.leakage.leaks, [
      {
        group: 'biking/01',
        splits: [
          { split: 'test', file: 'biking/v_biking_01/v_biking_01_04.avi' },
          { split: 'train', file: 'biking/v_biking_01/v_biking_01_01.avi' },
        ],
      },
      {
        group: 'diving/03',
        splits: [
          { split: 'test', file: 'diving/v_diving_03/v_diving_03_02.avi' },
          { split: 'train', file: 'diving/v_diving_03/v_diving_03_01.avi' },
        ],
      },
    ]);
  });

  test('a folder of videos is recognised by kind; a folder of nothing says why no kind fits', async () => {
    const videos = path.join(dir, 'videos');
    const r = runGlimpse(['synth', '--out', videos, '--classes', '2', '--videos', '3', '--frames', '12']);
    assert.equal(r.code, 0, r.stderr);
    const o = await describeDataset(videos);
    assert.equal(o.kind, 'videos');
    if (o.kind !== 'videos') return;
    assert.equal(o.detected, 'synth');
    assert.equal(o.videos, 6);
    assert.equal(o.classes.length, 2);
    const empty = path.join(dir, 'empty');
    await mkdir(empty);
    const none = await describeDataset(empty);
    assert.ok(none.kind === 'videos' && none.detected === null);
    if (none.kind !== 'videos') return;
    assert.deepEqual(
      none.attempts.map((a) => a.kind),
      ['synth', 'ucf11', 'hmdb51', 'hollywood2', 'folders'],
    );
    assert.ok(none.attempts.every((a) => !a.ok && a.message.length > 0));
    await assert.rejects(
      describeDataset(path.join(dir, 'missing')),
      (err: unknown) => err instanceof GlimpseError && err.code === 'not-found',
    );
  });

  test('previewImport ranks the Fortran-order reading first and gives K×K maps', async () => {
    const file = path.join(dir, 'maps.h5');
    runPython(
      String.raw`
import sys, numpy as np, h5py
K, D, N = 5, 8, 60
yy, xx = np.mgrid[0:K, 0:K]
a = np.zeros((N, K, K, D), np.float32)
r = np.random.default_rng(1); mix = r.uniform(0, 1, (2, D))
for f in range(N):
    g = np.stack([np.exp(-((yy - 1 - f / 30)**2 + (xx - 3)**2) / 2), np.exp(-((yy - 3)**2 + (xx - 1 - f / 40)**2) / 2)], -1)
    a[f] = g @ mix
with h5py.File(sys.argv[1], 'w') as h: h['feats'] = a.T
`,
      [file],
    );
    await writeFile(path.join(dir, 'framenum.txt'), '30\n30\n');
    await writeFile(path.join(dir, 'labels.txt'), '0\n1\n');
    const p = await previewImport({
      features: file,
      text: { kind: 'files', framenum: path.join(dir, 'framenum.txt'), labels: path.join(dir, 'labels.txt') },
    });
    assert.equal(p.key, 'feats');
    assert.deepEqual(p.shape, [8, 5, 5, 60]);
    assert.equal(p.expectedFrames, 60);
    assert.equal(p.candidates[0].id, 'kkd-f');
    assert.equal(p.candidates[0].preview[0].pc1.length, 25);
    assert.match(p.candidates[1].conflict ?? '', /8 frames, but the frame counts sum to 60/);
    await assert.rejects(
      previewImport({ features: path.join(dir, 'framenum.txt') }),
      /framenum\.txt: not an HDF5 file/,
    );
  });

  test("the engine's import job converts the file; a layout that does not fit fails with one line naming the file", async () => {
    const engine = await createEngine({
      workspace: path.join(dir, 'workspace'),
      transport: 'browser',
      mediaUrl: (id) => `/media/${id}`,
    });
    try {
      const text = {
        kind: 'files',
        framenum: path.join(dir, 'framenum.txt'),
        labels: path.join(dir, 'labels.txt'),
      } as const;
      const out = path.join(dir, 'engine-import');
      const job = await engine.startJob({
        kind: 'import',
        features: path.join(dir, 'maps.h5'),
        key: 'feats',
        text,
        outDir: out,
        split: 'train',
      });
      const done = await ended(engine, job.id);
      assert.equal(done.state, 'done', JSON.stringify(done.error));
      assert.equal(done.result?.layout, 'kkd-f');
      using split = await openSplit(out, 'train');
      assert.deepEqual([split.L, split.D, split.totalFrames, split.videos.length], [25, 8, 60, 2]);
      const wrong = await engine.startJob({
        kind: 'import',
        features: path.join(dir, 'maps.h5'),
        text,
        outDir: out,
        split: 'valid',
        layout: 'kkd-c',
      });
      const failed = await ended(engine, wrong.id);
      assert.equal(failed.state, 'failed');
      assert.equal(failed.error?.code, 'bad-file');
      assert.match(
        failed.error?.message ?? '',
        /maps\.h5: layout 'kkd-c' does not fit: 8 frames, but the frame counts sum to 60/,
      );
      const overview = await engine.describeDataset(out);
      assert.ok(
        overview.kind === 'features' && overview.dataset.splits.map((s) => s.name).join() === 'train',
      );
    } finally {
      await engine.close();
    }
  });
});
