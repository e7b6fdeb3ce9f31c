import { test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { encodeFrames } from '../../main/media/encode.ts';
import { probeVideo } from '../../main/media/probe.ts';
import { makePlaybackProxy, needsProxy } from '../../main/media/proxy.ts';
import { ffmpegBuilds, keyFrameFlags, makeTestVideo, withTempDir } from './media-fixtures.ts';

function* gradientFrames(count: number, width: number, height: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) {
    const rgb = new Uint8Array(width * height * 3);
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) rgb.set([(x * 4 + i * 8) & 255, y * 4, 128], (y * width + x) * 3);
    }
    yield rgb;
  }
}

test('encodeFrames writes a real video; the same frames give the same bytes (each ffmpeg build)', async () => {
  await withTempDir(async (dir) => {
    const builds = await ffmpegBuilds();
    // Encoding depends on the binary only: one run per distinct ffmpeg.
    const distinct = builds.filter(
      (b, i) => builds.findIndex((c) => c.tools.ffmpeg === b.tools.ffmpeg) === i,
    );
    const cases = [
      ['h264', 'mp4'],
      ['mpeg4', 'avi'],
      ['vp8', 'webm'],
    ] as const;
    for (const [buildIndex, { name, tools }] of distinct.entries()) {
      // Other builds: H.264 only (libx264 differs between builds; each ffmpeg start costs time in CI).
      for (const [codec, ext] of buildIndex === 0 ? cases : cases.slice(0, 1)) {
        const a = path.join(dir, `a-${codec}.${ext}`);
        const b = path.join(dir, `b-${codec}.${ext}`);
        const result = await encodeFrames(
          a,
          { width: 64, height: 48, fps: 25, codec, tools },
          gradientFrames(20, 64, 48),
        );
        assert.equal(result.frames, 20);
        await encodeFrames(b, { width: 64, height: 48, fps: 25, codec, tools }, gradientFrames(20, 64, 48));
        assert.deepEqual(await readFile(a), await readFile(b), `${name} ${codec}: deterministic`);
        if (buildIndex > 0) continue; // probing is covered by the probe tests; keep this file quick
        const info = await probeVideo(a, { tools });
        assert.equal(info.codec, codec, name);
        assert.deepEqual(
          [info.width, info.height, info.fps, info.frameCount],
          [64, 48, 25, 20],
          `${name} ${codec}`,
        );
      }
      assert.deepEqual(
        (await readdir(dir)).filter((f) => f.includes('.tmp-')),
        [],
        'no temp files left',
      );
    }
  });
});

test('encodeFrames accepts async iterables and refuses wrong frame sizes without leaving files', async () => {
  await withTempDir(async (dir) => {
    async function* frames() {
      yield* gradientFrames(3, 32, 32);
      yield new Uint8Array(10);
    }
    const file = path.join(dir, 'bad.mp4');
    await assert.rejects(
      encodeFrames(file, { width: 32, height: 32, fps: 10 }, frames()),
      new RegExp(`^Error: ${file}: frame 3 has 10 bytes, expected 32x32x3 = 3072$`),
    );
    assert.deepEqual(await readdir(dir), []);
    await assert.rejects(
      encodeFrames(path.join(dir, 'odd.mp4'), { width: 33, height: 32, fps: 10 }, []),
      /odd\.mp4: h264 needs an even frame size, got 33x32/,
    );
    await assert.rejects(
      encodeFrames(path.join(dir, 'x.gif'), { width: 32, height: 32, fps: 10 }, []),
      /unknown video extension/,
    );
    await assert.rejects(
      encodeFrames(path.join(dir, 'none.mp4'), { width: 32, height: 32, fps: 10 }, []),
      /no frames to encode/,
    );
    assert.deepEqual(await readdir(dir), []);
  });
});

test('needsProxy: MPEG-4 part 2, MPEG-1 and AVI need one; H.264 MP4 and VP8 WebM do not', () => {
  const base = { file: 'v.mp4', container: 'mov,mp4,m4a,3gp,3g2,mj2', codec: 'h264', pixFmt: 'yuv420p' };
  assert.equal(needsProxy(base), false);
  assert.equal(needsProxy({ ...base, codec: 'mpeg4' }), true);
  assert.equal(needsProxy({ ...base, pixFmt: 'yuv444p' }), true);
  assert.equal(needsProxy({ ...base, pixFmt: 'yuv420p10le' }), true);
  assert.equal(needsProxy({ ...base, file: 'v.avi', container: 'avi' }), true);
  assert.equal(needsProxy({ ...base, file: 'v.mpg', container: 'mpeg', codec: 'mpeg1video' }), true);
  assert.equal(
    needsProxy({ file: 'v.webm', container: 'matroska,webm', codec: 'vp8', pixFmt: 'yuv420p' }),
    false,
  );
  assert.equal(
    needsProxy({ file: 'v.mkv', container: 'matroska,webm', codec: 'vp9', pixFmt: 'yuv420p' }),
    true,
  );
});

test('makePlaybackProxy: all-intra, every source frame kept, cached by content', async () => {
  await withTempDir(async (dir) => {
    const source = await makeTestVideo(path.join(dir, 'clip.avi'));
    const info = await probeVideo(source);
    assert.equal(needsProxy(info), true);
    const cache = path.join(dir, 'cache');
    const proxy = await makePlaybackProxy(source, cache);
    const proxyInfo = await probeVideo(proxy);
    assert.equal(
      needsProxy(proxyInfo),
      false,
      `${proxyInfo.codec} in ${proxyInfo.container} plays in Chromium`,
    );
    assert.equal(proxyInfo.frameCount, 50);
    assert.equal(proxyInfo.fps, 25);
    const flags = await keyFrameFlags(proxy);
    assert.equal(flags.length, 50);
    assert.ok(
      flags.every((f) => f === 1),
      'every frame is a keyframe',
    );

    const made = (await stat(proxy)).mtimeMs;
    const started = performance.now();
    assert.equal(await makePlaybackProxy(source, cache), proxy, 'second call returns the cached path');
    assert.ok(performance.now() - started < 1000);
    assert.equal((await stat(proxy)).mtimeMs, made, 'not re-encoded');

    const copy = path.join(dir, 'same-bytes.avi');
    await copyFile(source, copy);
    assert.equal(await makePlaybackProxy(copy, cache), proxy, 'keyed by content, not by name');
    assert.deepEqual(await readdir(cache), [path.basename(proxy)], 'one file in the cache, no temp files');
  });
});

test('makePlaybackProxy works with every ffmpeg build', async () => {
  await withTempDir(async (dir) => {
    const source = await makeTestVideo(path.join(dir, 'odd.avi'), { size: '161x121', seconds: 1 });
    const builds = await ffmpegBuilds();
    const distinct = builds.filter(
      (b, i) => builds.findIndex((c) => c.tools.ffmpeg === b.tools.ffmpeg) === i,
    );
    for (const { name, tools } of distinct) {
      const proxy = await makePlaybackProxy(source, path.join(dir, name.replace(/\W+/g, '-')), { tools });
      const flags = await keyFrameFlags(proxy);
      assert.equal(flags.length, 25, name);
      assert.ok(
        flags.every((f) => f === 1),
        name,
      );
    }
  });
});
