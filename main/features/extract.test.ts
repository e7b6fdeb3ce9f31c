import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chooseBackend } from '../../model/backend.ts';
import { openSplit } from '../../model/data/split.ts';
import { generateSynthDataset } from '../datasets/synth.ts';
import { type Backbone, loadBackbone } from './backbone.ts';
import { extractFeatures } from './extract.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-extract-unit-'));
const videos = path.join(tmp, 'videos');
let backbone: Backbone;

before(async () => {
  await chooseBackend(process.env.GLIMPSE_BACKEND ?? 'wasm');
  backbone = await loadBackbone('builtin');
  await generateSynthDataset(videos, { seed: 3, classes: 2, videos: 3, frames: 6 });
});
after(() => {
  backbone.dispose();
  rmSync(tmp, { recursive: true, force: true });
});

test('extracts every split; the split reads back with the backbone L and D; short videos are reported', async () => {
  const out = path.join(tmp, 'a');
  const progress: number[] = [];
  const report = await extractFeatures({
    videosDir: videos,
    kind: 'synth',
    outDir: out,
    backbone,
    batch: 4,
    onProgress: (_, detail) => progress.push(detail.videosDone),
  });
  assert.equal(report.complete, true);
  assert.equal(
    Object.values(report.splits).reduce((n, s) => n + s.extracted, 0),
    6,
  );
  // 6 frames each: every video is shorter than a 30-frame clip, and still extracted.
  assert.equal(report.short.length, 6);
  assert.equal(progress.at(-1), 6);
  const split = await openSplit(out, 'train');
  try {
    assert.equal(split.L, backbone.L);
    assert.equal(split.D, backbone.D);
    assert.ok(split.videos.every((v) => v.frames === 6));
    assert.deepEqual(split.classNames, ['horizontal', 'vertical']);
  } finally {
    split.close();
  }

  // Running it again is a no-op that keeps the rows.
  const before = readFileSync(path.join(out, 'train_features.h5'));
  const again = await extractFeatures({ videosDir: videos, kind: 'synth', outDir: out, backbone, batch: 4 });
  assert.equal(again.run.frames, 0);
  assert.equal(again.run.resumedVideos, 6);
  assert.ok(readFileSync(path.join(out, 'train_features.h5')).subarray(0, 64).equals(before.subarray(0, 64)));
});

test('a folder holding features made differently is refused unless overwrite is asked for', async () => {
  const out = path.join(tmp, 'b');
  await extractFeatures({ videosDir: videos, kind: 'synth', outDir: out, backbone, batch: 4 });
  await assert.rejects(
    extractFeatures({ videosDir: videos, kind: 'synth', outDir: out, backbone, fps: 15 }),
    {
      message: `${path.join(out, 'dataset.json')}: this folder holds features made differently (fps changed); use --overwrite or another --out`,
    },
  );
  const redone = await extractFeatures({
    videosDir: videos,
    kind: 'synth',
    outDir: out,
    backbone,
    fps: 15,
    overwrite: true,
  });
  assert.equal(redone.run.resumedVideos, 0);
  assert.equal(JSON.parse(readFileSync(path.join(out, 'dataset.json'), 'utf8')).fps, 15);

  const foreign = path.join(tmp, 'c');
  await extractFeatures({ videosDir: videos, kind: 'synth', outDir: foreign, backbone });
  rmSync(path.join(foreign, 'dataset.json'));
  await assert.rejects(extractFeatures({ videosDir: videos, kind: 'synth', outDir: foreign, backbone }), {
    message: `${foreign}: holds feature files but no dataset.json; use --overwrite to replace them`,
  });
  writeFileSync(path.join(foreign, 'dataset.json'), JSON.stringify({ locations: 49, ctxDim: 32 }));
  await assert.rejects(
    extractFeatures({ videosDir: videos, kind: 'synth', outDir: foreign, backbone }),
    /it was not made by glimpse extract/,
  );
});
