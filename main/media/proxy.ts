// Playback proxies: videos Chromium cannot play (MPEG-1, MPEG-4 part 2/Xvid/DivX, AVI/MKV containers, ...)
// are transcoded once into an all-intra file, so that every frame is a keyframe and seeking lands on the
// exact frame. Proxies are cached by the sha256 of the source bytes; a cached proxy is reused as is.
// H.264 (libx264) in MP4 is preferred: here it encodes all-intra 640×480 at ~150 frames/s where libvpx VP8
// manages ~13; VP8 in WebM is the fallback. By default the proxy keeps every source frame and timestamp (no
// audio, upright when the source carries a rotation). With `fps` it is resampled by extraction's own `fps`
// filter to a constant rate with timestamps n / fps, so picture n of the proxy is feature row n.
// A damaged source gives a proxy of what decodes.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { access, mkdir, stat } from 'node:fs/promises';
import path from 'node:path';
import { asCancelled } from '../../common/progress.ts';
import {
  commitTempFile as commitTemp,
  removeQuietly as discardTemp,
  tempPathFor,
} from '../../model/atomic-file.ts';
import { encoderArgs, pickEncoder } from './codecs.ts';
import { fpsFilter } from './decode.ts';
import { assertReadableInput } from './input-file.ts';
import { locateFfmpeg, type FfmpegLocation } from './locate.ts';
import type { VideoInfo } from './probe.ts';
import { describeInputFailure, fileArg, firstVideoStreamInput, StderrTail } from './tool-process.ts';

/** Bump when the proxy settings change, so old cache entries are not reused. */
const PROXY_VERSION = 'p1';

const PLAYABLE_PIX_FMTS = new Set(['yuv420p', 'yuvj420p']);

/** True when Chromium's <video> would not play `info` as is (codec, container or pixel format). */
export function needsProxy(info: Pick<VideoInfo, 'file' | 'container' | 'codec' | 'pixFmt'>): boolean {
  if (!PLAYABLE_PIX_FMTS.has(info.pixFmt)) return true; // 10-bit, 4:2:2/4:4:4 H.264 do not play
  const formats = info.container.split(',');
  const ext = path.extname(info.file).toLowerCase();
  if (formats.includes('mp4') || formats.includes('mov')) {
    return !['h264', 'vp9', 'av1'].includes(info.codec);
  }
  // ffmpeg names MKV and WebM alike; Chromium only promises WebM.
  if (formats.includes('webm') && ext === '.webm') {
    return !['vp8', 'vp9', 'av1'].includes(info.codec);
  }
  return true;
}

const hashMemo = new Map<string, Promise<string>>();

/** sha256 of the file bytes, streamed; remembered per (path, size, mtime) for this process. */
export async function contentHash(file: string): Promise<string> {
  const info = await stat(file);
  const key = `${path.resolve(file)}|${info.size}|${info.mtimeMs}`;
  let hash = hashMemo.get(key);
  if (!hash) {
    hash = new Promise<string>((resolve, reject) => {
      const digest = createHash('sha256');
      createReadStream(file)
        .on('data', (chunk) => digest.update(chunk))
        .on('error', (err) => reject(new Error(`${file}: cannot read (${err.message})`)))
        .on('end', () => resolve(digest.digest('hex')));
    });
    hashMemo.set(key, hash);
    hash.catch(() => hashMemo.delete(key));
  }
  return hash;
}

const inFlight = new Map<string, Promise<string>>();

export interface ProxyOptions {
  /** Resample to this constant rate as extraction does (timestamps n / fps); default: keep the source timing. */
  fps?: number;
  signal?: AbortSignal;
  tools?: FfmpegLocation;
}

/** Path of an all-intra playable copy of `file` in `cacheDir`, made on first use. */
export async function makePlaybackProxy(
  file: string,
  cacheDir: string,
  options: ProxyOptions = {},
): Promise<string> {
  await assertReadableInput(file);
  const tools = options.tools ?? (await locateFfmpeg());
  const encoder =
    (await pickEncoder(tools.ffmpeg, 'h264')) ??
    (await pickEncoder(tools.ffmpeg, 'vp8')) ??
    (() => {
      throw new Error(
        `${file}: this ffmpeg (${tools.ffmpeg}) has neither an H.264 nor a VP8 encoder for proxies`,
      );
    })();
  const webm = encoder === 'libvpx';
  const { fps } = options;
  if (fps !== undefined && !(Number.isFinite(fps) && fps > 0 && fps <= 1000))
    throw new Error(`${file}: proxy fps must be a positive number, got ${fps}`);
  const hash = await contentHash(file);
  const rate = fps === undefined ? '' : `-${fps}fps`;
  const target = path.join(cacheDir, `${hash}-${PROXY_VERSION}${rate}${webm ? '.webm' : '.mp4'}`);
  try {
    await access(target);
    return target;
  } catch {
    // not cached yet
  }
  let job = inFlight.get(target);
  if (!job) {
    job = transcode(file, target, encoder, tools.ffmpeg, fps, options.signal).finally(() =>
      inFlight.delete(target),
    );
    inFlight.set(target, job);
  }
  return job;
}

async function transcode(
  file: string,
  target: string,
  encoder: string,
  ffmpeg: string,
  fps: number | undefined,
  signal?: AbortSignal,
): Promise<string> {
  await mkdir(path.dirname(target), { recursive: true });
  const temp = tempPathFor(target);
  const webm = encoder === 'libvpx';
  // H.264 4:2:0 needs even sizes; losing one edge pixel row/column is invisible in playback.
  const filters = webm ? [] : ['scale=trunc(iw/2)*2:trunc(ih/2)*2'];
  // The fps filter first, exactly as decodeArgs, then timestamps renumbered n / fps from 0.
  if (fps !== undefined) filters.unshift(fpsFilter(fps), `setpts=N/(${fps}*TB)`);
  const args = [
    ...firstVideoStreamInput(file),
    '-an',
    '-sn',
    '-dn',
    ...(filters.length > 0 ? ['-vf', filters.join(',')] : []),
    ...(fps !== undefined ? ['-r', String(fps)] : []),
    '-vsync',
    'passthrough',
    ...encoderArgs(encoder, { keyframeInterval: 1, deterministic: false, fast: true }),
    ...(webm ? ['-f', 'webm'] : ['-movflags', '+faststart', '-f', 'mp4']),
    '-y',
    fileArg(temp),
  ];
  const child = spawn(ffmpeg, args, { stdio: ['ignore', 'ignore', 'pipe'], windowsHide: true });
  const stderr = new StderrTail();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });
  try {
    const result = await new Promise<{ code: number | null; error?: Error }>((resolve) => {
      child.on('error', (error) => resolve({ code: null, error }));
      child.on('close', (code) => resolve({ code }));
    });
    if (signal?.aborted) throw asCancelled(signal.reason);
    if (result.error) throw new Error(`${file}: cannot start ffmpeg (${result.error.message})`);
    if (result.code !== 0)
      throw new Error(describeInputFailure(file, stderr.lines(), 'making a playback proxy failed'));
    await commitTemp(temp, target);
    return target;
  } catch (err) {
    await discardTemp(temp);
    throw err;
  } finally {
    signal?.removeEventListener('abort', kill);
    kill();
  }
}
