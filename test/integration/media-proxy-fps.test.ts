// Playback proxies at the feature rate: picture n of the proxy is the frame extraction decodes for row n.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decodeFrames } from '../../main/media/decode.ts';
import { probeVideo } from '../../main/media/probe.ts';
import { makePlaybackProxy } from '../../main/media/proxy.ts';
import { decodedCodes, makeH264At25, makeXvidAvi } from '../support/frame-coded-videos.ts';
import { ffprobeBinary, keyFrameFlags, withTempDir } from './media-fixtures.ts';
import { runTool } from '../../main/media/tool-process.ts';

async function extractionFrameCount(file: string, fps: number): Promise<number> {
  let n = 0;
  for await (const frame of decodeFrames(file, { fps, width: 32, height: 32 })) n = frame.index + 1;
  return n;
}

for (const make of [makeH264At25, makeXvidAvi]) {
  test(`fps proxy of ${make.name}: as many frames as extraction decodes, the same pictures, timestamps n/30`, async () => {
    await withTempDir(async (dir) => {
      const video = await make(dir, { width: 160, height: 120, seconds: 2 });
      const proxy = await makePlaybackProxy(video.path, `${dir}/cache`, { fps: 30 });
      assert.match(proxy, /-30fps\.mp4$/);
      const frames = await extractionFrameCount(video.path, 30);
      assert.equal(frames, video.codesAt30.length);
      // The proxy is decoded at its own timing: every picture it holds, in order.
      assert.deepEqual(await decodedCodes(proxy, 160, 120, 'source'), video.codesAt30);
      const info = await probeVideo(proxy);
      assert.equal(info.fps, 30);
      assert.equal(info.frameCount, frames);
      const flags = await keyFrameFlags(proxy);
      assert.equal(flags.length, frames);
      assert.ok(
        flags.every((f) => f === 1),
        'all-intra',
      );
      const ffprobe = await ffprobeBinary();
      const pts = await runTool(ffprobe, [
        '-v',
        'error',
        '-select_streams',
        'v:0',
        '-show_entries',
        'frame=pts_time',
        '-of',
        'csv=p=0',
        proxy,
      ]);
      const times = pts.stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => Number(l.split(',')[0]));
      assert.equal(times.length, frames);
      times.forEach((t, n) => assert.ok(Math.abs(t - n / 30) < 1e-3, `frame ${n} at ${t} s`));
      // The source-timed proxy is a different cache entry.
      assert.notEqual(await makePlaybackProxy(video.path, `${dir}/cache`), proxy);
    });
  });
}

test('fps proxy: a bad rate is a one-line error naming the file', async () => {
  await withTempDir(async (dir) => {
    const video = await makeH264At25(dir, { width: 64, height: 48, seconds: 1 });
    await assert.rejects(
      makePlaybackProxy(video.path, dir, { fps: 0 }),
      /coded-h264-25fps\.mp4: proxy fps must be a positive number, got 0/,
    );
  });
});
