import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { clipFrameIndices } from '../../common/clips.ts';
import { ClipBatcher, enumerateClips, readClipBatch, type Clip } from './clips.ts';
import { openSplit, type FeatureSplit } from './split.ts';
import { writeFeatureDataset } from './writer.ts';

const L = 4;
const D = 3;
const FRAMES = [34, 12, 5];

/** Location-major value of frame `row` (global), location l, channel c. */
const value = (row: number, l: number, c: number) => row * 100 + l * 10 + c;

async function tinySplit(): Promise<{ dir: string; split: FeatureSplit }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-clips-'));
  let row = 0;
  const videos = FRAMES.map((n, i) => {
    const frames = new Float32Array(n * L * D);
    for (let f = 0; f < n; f++, row++) {
      for (let l = 0; l < L; l++) for (let c = 0; c < D; c++) frames[(f * L + l) * D + c] = value(row, l, c);
    }
    return { file: `v${i}.avi`, label: i, frames };
  });
  await writeFeatureDataset(dir, 'test', videos, L, D);
  return { dir, split: await openSplit(dir, 'test', { locations: L, ctxDim: D }) };
}

/** Checks x[t, b, l, c] against the tagged values of each clip's frames. */
function checkBatch(split: FeatureSplit, clips: Clip[], maxlen: number, x: Float32Array): void {
  const B = clips.length;
  clips.forEach((clip, b) => {
    const video = split.videos[clip.video];
    clipFrameIndices(video.frames, clip.start, maxlen).forEach((f, t) => {
      for (let l = 0; l < L; l++) {
        for (let c = 0; c < D; c++) {
          assert.equal(
            x[((t * B + b) * L + l) * D + c],
            value(video.firstRow + f, l, c),
            `t${t} b${b} l${l} c${c}`,
          );
        }
      }
    });
  });
}

test('clip batches hold (T, B, L, D) frames, each video range read once', async () => {
  const { dir, split } = await tinySplit();
  try {
    const clips = enumerateClips(split, 30, 1);
    // 5 clips from the 34-frame video, one each from the short ones.
    assert.deepEqual(
      clips.map((c) => [c.video, c.start]),
      [
        [0, 0],
        [0, 1],
        [0, 2],
        [0, 3],
        [0, 4],
        [1, 0],
        [2, 0],
      ],
    );
    const batch = readClipBatch(split, clips, 30);
    assert.deepEqual([batch.T, batch.B, batch.L, batch.D], [30, 7, L, D]);
    checkBatch(split, clips, 30, batch.x);

    // Count the rows read through a split that records its reads.
    const reads: [number, number][] = [];
    const recording: FeatureSplit = Object.assign(Object.create(split) as FeatureSplit, {
      readRows: (start: number, count: number, into?: Float32Array) => {
        reads.push([start, count]);
        return split.readRows(start, count, into);
      },
    });
    const batcher = new ClipBatcher(recording);
    const first = clips.slice(0, 3);
    checkBatch(split, first, 30, batcher.read(first, 30).x);
    assert.deepEqual(reads, [[0, 32]]); // clips 0..2 of video 0 need rows 0..31, once
    reads.length = 0;
    const rest = clips.slice(3);
    checkBatch(split, rest, 30, batcher.read(rest, 30).x);
    // Rows 3..31 come from the cache; the rest of video 0 and the short videos are one merged read.
    assert.deepEqual(reads, [[32, 19]]);

    // Reads split into pieces when a range is larger than maxReadRows.
    reads.length = 0;
    const small = new ClipBatcher(recording, { maxReadRows: 10, cacheBytes: 0 });
    checkBatch(split, clips, 30, small.read(clips, 30).x);
    assert.ok(reads.every(([, n]) => n <= 10));
    assert.equal(
      reads.reduce((a, [, n]) => a + n, 0),
      51,
    );

    // Into a caller's buffer, larger than needed.
    const out = new Float32Array(2 * 30 * 7 * L * D).fill(-1);
    const into = readClipBatch(split, clips, 30, { out });
    assert.equal(into.x.buffer, out.buffer);
    assert.equal(into.x.length, 30 * 7 * L * D);
    checkBatch(split, clips, 30, into.x);
    assert.throws(() => readClipBatch(split, clips, 30, { out: new Float32Array(10) }), /too small/);
  } finally {
    split.close();
    await rm(dir, { recursive: true, force: true });
  }
});
