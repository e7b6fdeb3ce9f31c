import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { type DatasetManifest, getSplit, validateManifest, writeManifestFiles } from './manifest.ts';

const single: DatasetManifest = {
  kind: 'folders',
  root: '/videos',
  classes: ['run', 'walk', 'jump'],
  multilabel: false,
  splits: [
    {
      name: 'train',
      videos: [
        { file: 'run/a.avi', label: 0 },
        { file: 'jump/b.avi', label: 2 },
      ],
    },
    { name: 'test', videos: [{ file: 'walk/c.avi', label: 1 }] },
  ],
  protocol: 'test',
};

const multi: DatasetManifest = {
  ...single,
  kind: 'hollywood2',
  multilabel: true,
  splits: [{ name: 'train', videos: [{ file: 'AVIClips/x.avi', label: [1, 0, 1] }] }],
};

test('writes the reference text files: one line per video, every line ending in a newline', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-manifest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  await writeManifestFiles(dir, single);
  assert.equal(await readFile(path.join(dir, 'train_filename.txt'), 'utf8'), 'run/a.avi\njump/b.avi\n');
  assert.equal(await readFile(path.join(dir, 'train_labels.txt'), 'utf8'), '0\n2\n');
  assert.equal(await readFile(path.join(dir, 'test_labels.txt'), 'utf8'), '1\n');
  assert.equal(await readFile(path.join(dir, 'classes.txt'), 'utf8'), 'run\nwalk\njump\n');
  await writeManifestFiles(dir, multi);
  assert.equal(await readFile(path.join(dir, 'train_labels.txt'), 'utf8'), '1,0,1\n');
  assert.deepEqual(
    (await readdir(dir)).filter((f) => f.includes('.tmp-')),
    [],
  );
});

test('validation rejects what the text files cannot hold, naming the video', () => {
  const withVideo = (
    m: DatasetManifest,
    video: { file: string; label: number | number[] },
  ): DatasetManifest => ({
    ...m,
    splits: [{ name: 'train', videos: [video] }],
  });
  assert.throws(
    () => validateManifest(withVideo(single, { file: 'run/a.avi', label: 3 })),
    /run\/a\.avi: label must be a class id in 0\.\.2/,
  );
  assert.throws(
    () => validateManifest(withVideo(single, { file: 'run/a.avi', label: [1, 0, 0] })),
    /label must be a class id/,
  );
  assert.throws(
    () => validateManifest(withVideo(multi, { file: 'x.avi', label: [1, 0] })),
    /x\.avi: label must be 3 0\/1 flags/,
  );
  assert.throws(() => validateManifest(withVideo(multi, { file: 'x.avi', label: [1, 0, 2] })), /0\/1 flags/);
  assert.throws(
    () => validateManifest(withVideo(single, { file: 'a\nb.avi', label: 0 })),
    /relative '\/'-separated path/,
  );
  assert.throws(() => validateManifest(withVideo(single, { file: '/abs/a.avi', label: 0 })), /relative/);
  const twice = {
    ...single,
    splits: [
      {
        name: 'train',
        videos: [
          { file: 'a.avi', label: 0 },
          { file: 'a.avi', label: 1 },
        ],
      },
    ],
  };
  assert.throws(() => validateManifest(twice), /a\.avi: listed twice/);
  assert.throws(() => validateManifest({ ...single, classes: [] }), /no classes/);
  assert.throws(() => getSplit(single, 'valid'), /has no split 'valid' \(has train, test\)/);
  validateManifest(single);
  validateManifest(multi);
});

test('atomic write leaves no temp file when it fails', async (t) => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-manifest-'));
  t.after(() => rm(dir, { recursive: true, force: true }));
  // The target is a folder, so the rename fails after the temp file was written.
  await writeFileAtomic(path.join(dir, 'x.txt'), 'a');
  await assert.rejects(writeFileAtomic(dir, 'data'));
  const parent = await readdir(path.dirname(dir));
  assert.ok(!parent.some((f) => f.startsWith(path.basename(dir) + '.tmp-')));
  assert.equal(await readFile(path.join(dir, 'x.txt'), 'utf8'), 'a');
});
