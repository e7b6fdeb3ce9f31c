// Writes a real video file from raw RGB frames through ffmpeg's stdin. Deterministic by default (one
// thread, bit-exact flags, no metadata), so the same frames and the same ffmpeg give the same bytes.
// The container comes from the extension (.mp4 .m4v .mov .avi .mkv .webm); the file appears atomically.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { asCancelled } from '../../common/progress.ts';
import {
  commitTempFile as commitTemp,
  removeQuietly as discardTemp,
  tempPathFor,
} from '../../model/atomic-file.ts';
import { encoderArgs, encoderPixFmt, muxerFor, pickEncoder, type VideoCodec } from './codecs.ts';
import { locateFfmpeg, type FfmpegLocation } from './locate.ts';
import { fileArg, lastToolLine, StderrTail } from './tool-process.ts';

export interface EncodeOptions {
  width: number;
  height: number;
  fps: number;
  /** Default 'h264' (libx264, else libopenh264); 'ffv1' is lossless RGB (use .mkv or .avi). */
  codec?: VideoCodec;
  /** Frames between keyframes (default 12); 1 for all-intra. */
  keyframeInterval?: number;
  signal?: AbortSignal;
  tools?: FfmpegLocation;
}

export interface EncodeResult {
  path: string;
  frames: number;
  /** The ffmpeg encoder used, e.g. "libx264". */
  encoder: string;
}

export async function encodeFrames(
  file: string,
  options: EncodeOptions,
  frames: AsyncIterable<Uint8Array> | Iterable<Uint8Array>,
): Promise<EncodeResult> {
  const { width, height, fps, codec = 'h264', keyframeInterval = 12, signal } = options;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new Error(`${file}: frame size must be positive integers, got ${width}x${height}`);
  }
  if (!(Number.isFinite(fps) && fps > 0)) throw new Error(`${file}: fps must be positive, got ${fps}`);
  const muxer = muxerFor(file);
  if (!muxer) throw new Error(`${file}: unknown video extension (use .mp4, .m4v, .mov, .avi, .mkv or .webm)`);
  const tools = options.tools ?? (await locateFfmpeg());
  const encoder = await pickEncoder(tools.ffmpeg, codec);
  if (!encoder) throw new Error(`${file}: this ffmpeg (${tools.ffmpeg}) has no ${codec} encoder`);
  if (encoderPixFmt(encoder) === 'yuv420p' && (width % 2 || height % 2)) {
    throw new Error(`${file}: ${codec} needs an even frame size, got ${width}x${height}`);
  }

  const temp = tempPathFor(file);
  const args = [
    '-hide_banner',
    '-nostdin',
    '-v',
    'error',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-s',
    `${width}x${height}`,
    '-r',
    String(fps),
    '-i',
    'pipe:0',
    ...encoderArgs(encoder, { keyframeInterval, deterministic: true }),
    '-map_metadata',
    '-1',
    '-fflags',
    '+bitexact',
    '-f',
    muxer,
    '-y',
    fileArg(temp),
  ];
  const child = spawn(tools.ffmpeg, args, { stdio: ['pipe', 'ignore', 'pipe'], windowsHide: true });
  const stderr = new StderrTail();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  // ffmpeg exiting early makes writes fail with EPIPE; the exit status and stderr say why.
  child.stdin.on('error', () => {});
  const exited = new Promise<{ code: number | null; error?: Error }>((resolve) => {
    child.on('error', (error) => resolve({ code: null, error }));
    child.on('close', (code) => resolve({ code }));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });

  const frameBytes = width * height * 3;
  let count = 0;
  let finished = false;
  try {
    for await (const frame of frames) {
      if (signal?.aborted) break;
      if (frame.length !== frameBytes) {
        throw new Error(
          `${file}: frame ${count} has ${frame.length} bytes, expected ${width}x${height}x3 = ${frameBytes}`,
        );
      }
      if (child.exitCode !== null || child.signalCode !== null) break;
      // Respect the pipe's backpressure; stop waiting if ffmpeg dies instead of draining.
      if (!child.stdin.write(frame)) await Promise.race([once(child.stdin, 'drain'), exited]);
      count++;
    }
    child.stdin.end();
    const result = await exited;
    if (signal?.aborted) throw asCancelled(signal.reason);
    if (result.error) throw new Error(`${file}: cannot start ffmpeg (${result.error.message})`);
    if (result.code !== 0) {
      const last = lastToolLine(temp, stderr.lines());
      throw new Error(`${file}: encoding with ${encoder} failed${last ? ` (${last})` : ''}`);
    }
    if (count === 0) throw new Error(`${file}: no frames to encode`);
    await commitTemp(temp, file);
    finished = true;
    return { path: file, frames: count, encoder };
  } finally {
    signal?.removeEventListener('abort', kill);
    if (!finished) {
      kill();
      await exited;
      await discardTemp(temp);
    }
  }
}
