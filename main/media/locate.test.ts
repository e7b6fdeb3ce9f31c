import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { locateFfmpeg, resetFfmpegLocation } from './locate.ts';

async function withEnv<T>(value: string | undefined, run: () => Promise<T>): Promise<T> {
  const saved = process.env.GLIMPSE_FFMPEG;
  if (value === undefined) delete process.env.GLIMPSE_FFMPEG;
  else process.env.GLIMPSE_FFMPEG = value;
  resetFfmpegLocation();
  try {
    return await run();
  } finally {
    if (saved === undefined) delete process.env.GLIMPSE_FFMPEG;
    else process.env.GLIMPSE_FFMPEG = saved;
    resetFfmpegLocation();
  }
}

test('locateFfmpeg finds a runnable ffmpeg and caches it', async () => {
  await withEnv(undefined, async () => {
    const first = await locateFfmpeg();
    assert.ok(path.isAbsolute(first.ffmpeg), first.ffmpeg);
    assert.ok(['ffmpeg-static', '@ffmpeg-installer/ffmpeg', 'path'].includes(first.source));
    assert.equal(await locateFfmpeg(), first, 'second call returns the cached object');
  });
});

test('GLIMPSE_FFMPEG takes precedence and finds ffprobe beside it', async () => {
  await withEnv('/usr/bin/ffmpeg', async () => {
    const found = await locateFfmpeg();
    assert.deepEqual(found, { ffmpeg: '/usr/bin/ffmpeg', ffprobe: '/usr/bin/ffprobe', source: 'env' });
  });
});

test('a GLIMPSE_FFMPEG that does not exist or does not run is a clear error', async () => {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-locate-'));
  try {
    await withEnv(path.join(dir, 'missing-ffmpeg'), async () => {
      await assert.rejects(locateFfmpeg(), /GLIMPSE_FFMPEG=.*missing-ffmpeg: does not exist/);
    });
    const notBinary = path.join(dir, 'ffmpeg');
    await writeFile(notBinary, 'not a program', { mode: 0o644 });
    await withEnv(notBinary, async () => {
      await assert.rejects(locateFfmpeg(), (err: Error) => {
        assert.match(err.message, /GLIMPSE_FFMPEG=.*ffmpeg: does not run/);
        assert.ok(!err.message.includes('\n'), 'one-line message');
        return true;
      });
    });
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
