import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { decodeFrames } from '../../main/media/decode.ts';
import { encodeFrames } from '../../main/media/encode.ts';
import { probeVideo } from '../../main/media/probe.ts';
import { benchDecode } from '../../main/media/bench.ts';
import { ffmpegBuilds, makeTestVideo, processesMentioning, withTempDir } from './media-fixtures.ts';

test('probe: 2 s, 25 fps, 320×240 MPEG-4 part 2 in AVI, with every ffmpeg build', async () => {
  await withTempDir(async (dir) => {
    const file = await makeTestVideo(path.join(dir, 'clip.avi'));
    for (const { name, tools } of await ffmpegBuilds()) {
      const info = await probeVideo(file, { tools });
      assert.equal(info.fps, 25, name);
      assert.equal(info.frameCount, 50, name);
      assert.equal(info.width, 320, name);
      assert.equal(info.height, 240, name);
      assert.equal(info.codec, 'mpeg4', name);
      assert.equal(info.pixFmt, 'yuv420p', name);
      assert.equal(info.container, 'avi', name);
      assert.ok(Math.abs(info.duration - 2) < 0.05, `${name}: duration ${info.duration}`);
      assert.equal(info.hasVideo, true);
      assert.equal(info.hasAudio, false);
      assert.equal(info.rotation, 0);
    }
  });
});

test('probe counts frames when the container does not record them (WebM), and reads NTSC rates exactly', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'ntsc.webm');
    await makeTestVideo(file, {
      size: '160x120',
      rate: 30000 / 1001,
      seconds: 1,
      codecArgs: ['-c:v', 'libvpx', '-b:v', '500k', '-deadline', 'realtime', '-cpu-used', '8'],
    });
    for (const { name, tools } of await ffmpegBuilds()) {
      const info = await probeVideo(file, { tools });
      assert.equal(info.frameCountSource, 'counted', name);
      assert.equal(info.frameCount, 30, name);
      assert.ok(Math.abs(info.fps - 30000 / 1001) < 1e-6, `${name}: fps ${info.fps}`);
      assert.equal(info.codec, 'vp8', name);
      const quick = await probeVideo(file, { tools, countFrames: false });
      assert.equal(quick.frameCountSource, 'estimated', name);
      assert.ok(Math.abs(quick.frameCount - 30) <= 1, `${name}: estimated ${quick.frameCount}`);
    }
  });
});

test('decode at 30 fps: 2 s at 25 fps gives 60 frames of H·W·3 bytes, with every ffmpeg build', async () => {
  await withTempDir(async (dir) => {
    const file = await makeTestVideo(path.join(dir, 'clip.avi'));
    for (const { name, tools } of await ffmpegBuilds()) {
      let count = 0;
      for await (const frame of decodeFrames(file, { fps: 30, width: 112, height: 96, tools })) {
        assert.equal(frame.index, count, name);
        assert.equal(frame.rgb.length, 96 * 112 * 3, name);
        count++;
      }
      assert.equal(count, 60, name);
      let native = 0;
      for await (const frame of decodeFrames(file, { fps: 'source', width: 32, height: 32, tools })) {
        native += frame.rgb.length > 0 ? 1 : 0;
      }
      assert.equal(native, 50, `${name}: fps 'source' keeps every frame`);
    }
  });
});

test('decoded colours of solid-colour videos match within codec error', async () => {
  const colours: Array<[number, number, number]> = [
    [200, 40, 90],
    [20, 180, 240],
    [128, 128, 128],
  ];
  const [w, h] = [64, 48];
  await withTempDir(async (dir) => {
    for (const codec of ['h264', 'mpeg4', 'vp8', 'ffv1'] as const) {
      const file = path.join(
        dir,
        `solid-${codec}.${codec === 'ffv1' ? 'mkv' : codec === 'vp8' ? 'webm' : 'mp4'}`,
      );
      const frames = colours.map(([r, g, b]) => {
        const rgb = new Uint8Array(w * h * 3);
        for (let p = 0; p < w * h; p++) rgb.set([r, g, b], p * 3);
        return rgb;
      });
      // 10 frames of each colour at 10 fps = 1 s per colour.
      await encodeFrames(
        file,
        { width: w, height: h, fps: 10, codec },
        frames.flatMap((f) => Array(10).fill(f)),
      );
      const tolerance = codec === 'ffv1' ? 0 : 3;
      let worst = 0;
      const seen: number[] = [];
      for await (const frame of decodeFrames(file, { fps: 10, width: 32, height: 24 })) {
        const expected = colours[Math.floor(frame.index / 10)];
        for (let i = 0; i < frame.rgb.length; i++)
          worst = Math.max(worst, Math.abs(frame.rgb[i] - expected[i % 3]));
        seen.push(frame.index);
      }
      assert.equal(seen.length, 30, codec);
      assert.ok(worst <= tolerance, `${codec}: worst channel error ${worst} > ${tolerance}`);
    }
  });
});

test('the whole frame is resized, not cropped: a marker in each corner stays in that corner', async () => {
  const [w, h] = [64, 32];
  const rgb = new Uint8Array(w * h * 3);
  const box = (x0: number, y0: number, colour: [number, number, number]) => {
    for (let y = y0; y < y0 + 8; y++) for (let x = x0; x < x0 + 8; x++) rgb.set(colour, (y * w + x) * 3);
  };
  box(0, 0, [255, 0, 0]);
  box(w - 8, 0, [0, 255, 0]);
  box(0, h - 8, [0, 0, 255]);
  box(w - 8, h - 8, [255, 255, 255]);
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'corners.mkv');
    await encodeFrames(file, { width: w, height: h, fps: 5, codec: 'ffv1' }, [rgb, rgb]);
    for await (const { rgb: out } of decodeFrames(file, { fps: 5, width: 32, height: 32 })) {
      const px = (x: number, y: number) => Array.from(out.subarray((y * 32 + x) * 3, (y * 32 + x) * 3 + 3));
      assert.deepEqual(px(0, 0), [255, 0, 0]);
      assert.deepEqual(px(31, 0), [0, 255, 0]);
      assert.deepEqual(px(0, 31), [0, 0, 255]);
      assert.deepEqual(px(31, 31), [255, 255, 255]);
      assert.deepEqual(px(16, 16), [0, 0, 0]);
    }
  });
});

test('decoding is streamed: ffmpeg waits while the consumer pauses, and is killed on early return', async () => {
  await withTempDir(async (dir) => {
    const file = await makeTestVideo(path.join(dir, 'long-clip.avi'), { seconds: 10 });
    const frames = decodeFrames(file, { fps: 30, width: 224, height: 224 });
    const first = await frames.next();
    assert.equal(first.done, false);
    // 300 frames of 150 KB would take ffmpeg well under a second to produce if nothing held it back.
    await sleep(1500);
    assert.equal(processesMentioning(file).length, 1, 'ffmpeg is still running, blocked on the full pipe');
    await frames.return(undefined);
    assert.deepEqual(processesMentioning(file), [], 'ffmpeg is gone after return()');
  });
});

test('abort stops ffmpeg and rejects with the abort reason', async () => {
  await withTempDir(async (dir) => {
    const file = await makeTestVideo(path.join(dir, 'abort-clip.avi'), { seconds: 10 });
    const controller = new AbortController();
    let count = 0;
    await assert.rejects(
      (async () => {
        for await (const frame of decodeFrames(file, {
          width: 224,
          height: 224,
          signal: controller.signal,
        })) {
          count = frame.index + 1;
          if (count === 3) setTimeout(() => controller.abort(new Error('user cancelled')), 10);
          await sleep(20);
        }
      })(),
      /user cancelled/,
    );
    assert.ok(count >= 3 && count < 300, `stopped early, after ${count} frames`);
    assert.deepEqual(processesMentioning(file), []);
  });
});

test('benchDecode reports frames and a rate', async () => {
  await withTempDir(async (dir) => {
    const file = await makeTestVideo(path.join(dir, 'bench.avi'));
    const result = await benchDecode(file, { fps: 30, width: 224, height: 224 });
    assert.equal(result.frames, 60);
    assert.ok(result.seconds > 0 && result.framesPerS > 0);
    assert.ok(Math.abs(result.framesPerS - result.frames / result.seconds) < 1e-9);
  });
});
