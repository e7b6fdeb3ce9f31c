// Bad input: every failure is one Error line that names the file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { decodeFrames, type DecodeOptions } from '../../main/media/decode.ts';
import { probeVideo } from '../../main/media/probe.ts';
import { makePlaybackProxy } from '../../main/media/proxy.ts';
import { ffmpeg, ffmpegBuilds, makeTestVideo, withTempDir } from './media-fixtures.ts';

function oneLineNaming(file: string, pattern: RegExp): (err: unknown) => boolean {
  return (err) => {
    assert.ok(err instanceof Error);
    assert.ok(!err.message.includes('\n'), `one line: ${JSON.stringify(err.message)}`);
    assert.ok(err.message.startsWith(`${file}: `), `names the file: ${err.message}`);
    assert.match(err.message, pattern);
    return true;
  };
}

async function decodeAll(file: string, options: Partial<DecodeOptions> = {}): Promise<number> {
  let count = 0;
  for await (const frame of decodeFrames(file, { width: 32, height: 32, ...options }))
    count = frame.index + 1;
  return count;
}

test('a text file renamed .avi', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'notes.avi');
    await writeFile(file, 'this is not a video\n'.repeat(50));
    for (const { name, tools } of await ffmpegBuilds()) {
      await assert.rejects(probeVideo(file, { tools }), oneLineNaming(file, /not a readable video/), name);
      await assert.rejects(decodeAll(file, { tools }), oneLineNaming(file, /not a readable video/), name);
    }
    await assert.rejects(
      makePlaybackProxy(file, path.join(dir, 'cache')),
      oneLineNaming(file, /not a readable video/),
    );
  });
});

test('a zero-byte file', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'empty.mp4');
    await writeFile(file, '');
    await assert.rejects(probeVideo(file), oneLineNaming(file, /empty file \(0 bytes\)/));
    await assert.rejects(decodeAll(file), oneLineNaming(file, /empty file \(0 bytes\)/));
  });
});

test('a missing file, and a directory', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'missing.avi');
    await assert.rejects(probeVideo(file), oneLineNaming(file, /file not found/));
    await assert.rejects(decodeAll(file), oneLineNaming(file, /file not found/));
    await assert.rejects(makePlaybackProxy(file, dir), oneLineNaming(file, /file not found/));
    await assert.rejects(probeVideo(dir), oneLineNaming(dir, /is a directory/));
  });
});

test('an audio-only file: no video stream', async () => {
  await withTempDir(async (dir) => {
    const file = path.join(dir, 'tone.wav');
    await ffmpeg('-f', 'lavfi', '-i', 'sine=frequency=440:duration=1', file);
    for (const { name, tools } of await ffmpegBuilds()) {
      await assert.rejects(probeVideo(file, { tools }), oneLineNaming(file, /no video stream/), name);
      await assert.rejects(decodeAll(file, { tools }), oneLineNaming(file, /no video stream/), name);
    }
  });
});

// Decision: decodeFrames yields every frame that decodes, then throws naming the file and ffmpeg's last
// error line. ffmpeg itself exits 0 on these files, so the error comes from the errors it logs.
test('a truncated AVI (cut in half): probe succeeds, decode yields the decodable frames then throws', async () => {
  await withTempDir(async (dir) => {
    const whole = await makeTestVideo(path.join(dir, 'whole.avi'));
    const bytes = await readFile(whole);
    const file = path.join(dir, 'half.avi');
    await writeFile(file, bytes.subarray(0, bytes.length >> 1));
    for (const { name, tools } of await ffmpegBuilds()) {
      const info = await probeVideo(file, { tools });
      assert.equal(info.width, 320, name);
      let yielded = 0;
      await assert.rejects(
        (async () => {
          for await (const frame of decodeFrames(file, { width: 32, height: 32, fps: 'source', tools })) {
            yielded = frame.index + 1;
          }
        })(),
        oneLineNaming(
          file,
          /damaged or truncated video, decoding stopped with errors after \d+ frames \(.+\)/,
        ),
        name,
      );
      assert.ok(yielded >= 10 && yielded < 50, `${name}: ${yielded} frames decoded before the error`);
      const tolerated = await decodeAll(file, { fps: 'source', tools, tolerateErrors: true });
      assert.equal(tolerated, yielded, `${name}: tolerateErrors yields the same frames without throwing`);
    }
  });
});

test('a truncated MP4 (index at the end, cut in half) does not even probe', async () => {
  await withTempDir(async (dir) => {
    const whole = await makeTestVideo(path.join(dir, 'whole.mp4'), { codecArgs: ['-c:v', 'libx264'] });
    const bytes = await readFile(whole);
    const file = path.join(dir, 'half.mp4');
    await writeFile(file, bytes.subarray(0, bytes.length >> 1));
    await assert.rejects(probeVideo(file), oneLineNaming(file, /incomplete MP4\/MOV.*moov atom not found/));
    await assert.rejects(decodeAll(file), oneLineNaming(file, /moov atom not found/));
  });
});

test('bad decode options are refused before ffmpeg starts', async () => {
  await assert.rejects(
    decodeAll('/x.avi', { width: 0 }),
    /\/x\.avi: decode width must be a positive integer/,
  );
  await assert.rejects(decodeAll('/x.avi', { fps: -1 }), /\/x\.avi: decode fps must be a positive number/);
});
