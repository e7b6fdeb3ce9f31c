// Frame-coded test videos: every frame's code survives encoding and ffmpeg's decoding, in order.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { promisify } from 'node:util';
import { probeVideo } from '../../main/media/probe.ts';
import { ffprobeBinary, keyFrameFlags } from '../integration/media-fixtures.ts';
import {
  decodedCodes,
  frameCodeImage,
  makeH264At25,
  makeLongGopH264,
  makeXvidAvi,
  readFrameCode,
} from '../support/frame-coded-videos.ts';

const W = 160;
const H = 120;
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

function toRgba(rgb: Uint8Array): Uint8Array {
  const rgba = new Uint8Array((rgb.length / 3) * 4);
  for (let i = 0, j = 0; i < rgb.length; i += 3, j += 4) {
    rgba.set(rgb.subarray(i, i + 3), j);
    rgba[j + 3] = 255;
  }
  return rgba;
}

describe('frame codes', () => {
  test('every index reads back from its RGBA picture, also scaled down', () => {
    for (const index of [0, 1, 2, 3, 7, 255, 256, 1000, 2047, 4095]) {
      assert.equal(readFrameCode(toRgba(frameCodeImage(index, W, H)), W, H), index);
      assert.equal(readFrameCode(frameCodeImage(index, 37, 23), 37, 23, 3), index);
    }
  });

  test('a blend of two frames or a uniform picture reads as no code', () => {
    const a = frameCodeImage(5, W, H);
    const b = frameCodeImage(10, W, H);
    const blend = a.map((v, i) => (v + b[i]) >> 1);
    assert.equal(readFrameCode(blend, W, H, 3), null);
    assert.equal(readFrameCode(new Uint8Array(W * H * 3).fill(128), W, H, 3), null);
  });

  test('a flipped bit breaks the parity', () => {
    const rgb = frameCodeImage(6, W, H);
    // Cell 13 (the least significant bit): row 3, column 1; paint it white.
    for (let y = (3 * H) / 4; y < H; y++) rgb.fill(255, (y * W + W / 4) * 3, (y * W + W / 2) * 3);
    assert.equal(readFrameCode(rgb, W, H, 3), null);
  });

  test('out-of-range indices and short buffers are refused', () => {
    assert.throws(() => frameCodeImage(4096, W, H), /outside 0\.\.4095/);
    assert.throws(() => readFrameCode(new Uint8Array(10), W, H), /not a 160×120×4 picture/);
  });
});

describe('frame-coded videos through ffmpeg', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-coded-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('H.264 long GOP at 30 fps: codes 0..N-1 in order, one keyframe per 250 frames, B-frames', async () => {
    const video = await makeLongGopH264(dir, { width: W, height: H, seconds: 10 });
    assert.deepEqual(video.codesAt30, range(300));
    const info = await probeVideo(video.path);
    assert.equal(info.codec, 'h264');
    const keys = await keyFrameFlags(video.path);
    assert.equal(keys.length, 300);
    // x264 may add a scene-cut keyframe, but the GOP stays long: seeks must decode from far back.
    assert.ok(keys.filter((k) => k === 1).length <= 4, `keyframes: ${keys.filter((k) => k === 1).length}`);
    const picture = await runPictTypes(video.path);
    assert.ok(picture.includes('B'), 'libx264 at preset medium writes B-frames');
  });

  test('MPEG-4 part 2 AVI tagged XVID: codes 0..N-1 in order', async () => {
    const video = await makeXvidAvi(dir, { width: W, height: H, seconds: 4 });
    assert.deepEqual(video.codesAt30, range(120));
    const info = await probeVideo(video.path);
    assert.equal(info.codec, 'mpeg4');
    assert.match(info.container, /avi/);
    assert.equal(await codecTag(video.path), 'XVID');
  });

  test('H.264 at 25 fps: its own frames are 0..N-1, at 30 fps ffmpeg repeats one frame in five', async () => {
    const video = await makeH264At25(dir, { width: W, height: H, seconds: 4 });
    assert.deepEqual(await decodedCodes(video.path, W, H, 'source'), range(100));
    assert.equal(video.codesAt30.length, 120);
    // Non-decreasing, every source frame present, 20 repeats.
    for (let i = 1; i < 120; i++) assert.ok(video.codesAt30[i] - video.codesAt30[i - 1] <= 1);
    assert.deepEqual([...new Set(video.codesAt30)], range(100));
    // fps picks the source frame whose time is nearest: row n shows round(n · 25/30) (ties: ffmpeg's own).
    for (let n = 0; n < 120; n++) assert.ok(Math.abs(video.codesAt30[n] - (n * 25) / 30) <= 0.5 + 1e-9);
  });
});

async function ffprobeLines(file: string, entries: string): Promise<string[]> {
  const { stdout } = await promisify(execFile)(await ffprobeBinary(), [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    entries,
    '-of',
    'csv=p=0',
    file,
  ]);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

async function runPictTypes(file: string): Promise<string> {
  return (await ffprobeLines(file, 'frame=pict_type')).join('');
}

async function codecTag(file: string): Promise<string> {
  return (await ffprobeLines(file, 'stream=codec_tag_string'))[0];
}
