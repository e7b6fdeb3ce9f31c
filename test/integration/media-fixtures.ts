// Real test videos made with ffmpeg's lavfi sources, and the ffmpeg builds to run the media tests against.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { locateFfmpeg, type FfmpegLocation } from '../../main/media/locate.ts';

const run = promisify(execFile);

/** The default location, plus @ffmpeg-installer's ffmpeg without ffprobe (exercises the `ffmpeg -i` path). */
export async function ffmpegBuilds(): Promise<Array<{ name: string; tools: FfmpegLocation }>> {
  const builds = [{ name: 'default', tools: await locateFfmpeg() }];
  const installer = path.resolve('node_modules/@ffmpeg-installer/linux-x64/ffmpeg');
  if (process.platform === 'linux' && existsSync(installer)) {
    builds.push({
      name: 'ffmpeg-installer, no ffprobe',
      tools: { ffmpeg: installer, ffprobe: null, source: 'path' },
    });
  }
  if (existsSync('/usr/bin/ffmpeg')) {
    builds.push({
      name: 'debian',
      tools: {
        ffmpeg: '/usr/bin/ffmpeg',
        ffprobe: existsSync('/usr/bin/ffprobe') ? '/usr/bin/ffprobe' : null,
        source: 'path',
      },
    });
  }
  return builds;
}

/** Runs ffmpeg (default location) with the given arguments after the common quiet flags. */
export async function ffmpeg(...args: string[]): Promise<void> {
  const { ffmpeg: binary } = await locateFfmpeg();
  await run(binary, ['-hide_banner', '-nostdin', '-v', 'error', '-y', ...args]);
}

/** An ffprobe to check results with (Debian's, or the located one). */
export async function ffprobeBinary(): Promise<string> {
  const located = (await locateFfmpeg()).ffprobe;
  if (located) return located;
  if (existsSync('/usr/bin/ffprobe')) return '/usr/bin/ffprobe';
  throw new Error('these tests need ffprobe');
}

/** key_frame flag of every video frame, by decoding with ffprobe. */
export async function keyFrameFlags(file: string): Promise<number[]> {
  const { stdout } = await run(await ffprobeBinary(), [
    '-v',
    'error',
    '-select_streams',
    'v:0',
    '-show_entries',
    'frame=key_frame',
    '-of',
    'csv=p=0',
    file,
  ]);
  return stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean)
    .map((l) => Number(l.split(',')[0]));
}

export async function withTempDir<T>(run: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-media-'));
  try {
    return await run(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** A `testsrc` video: 320×240 at 25 fps for 2 s, MPEG-4 part 2 in AVI unless told otherwise. */
export async function makeTestVideo(
  file: string,
  { size = '320x240', rate = 25, seconds = 2, codecArgs = ['-c:v', 'mpeg4', '-q:v', '3'] } = {},
): Promise<string> {
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    `testsrc=size=${size}:rate=${rate}:duration=${seconds}`,
    ...codecArgs,
    file,
  );
  return file;
}

/** Live processes (Linux /proc) whose command line mentions `needle`: to see whether ffmpeg was stopped. */
export function processesMentioning(needle: string): number[] {
  if (process.platform !== 'linux') return [];
  const found: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (cmdline.includes(needle) && !/\) Z /.test(stat)) found.push(Number(entry));
    } catch {
      // the process ended while we looked
    }
  }
  return found;
}
