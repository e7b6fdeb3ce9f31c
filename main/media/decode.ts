// Streams a video as RGB frames from an ffmpeg child: the whole frame resized (no crop, bilinear) and
// resampled to a fixed frame rate. Memory stays bounded: frames are read from the pipe only as fast as the
// consumer takes them, so ffmpeg blocks on a full pipe instead of buffering the video.
//
// Damaged input: frames that decode are yielded first; then, if ffmpeg exited with an error or logged
// errors (a truncated file logs "File ended prematurely", "partial file", "Error at MB" ... while still
// exiting 0), the generator throws one Error naming the file with ffmpeg's last error line. Callers that
// prefer whatever decodes can pass `tolerateErrors: true`; a non-zero exit still throws then.
import { spawn } from 'node:child_process';
import { asCancelled } from '../../common/progress.ts';
import { assertReadableInput } from './input-file.ts';
import { locateFfmpeg, type FfmpegLocation } from './locate.ts';
import { describeInputFailure, firstVideoStreamInput, lastToolLine, StderrTail } from './tool-process.ts';

export interface DecodeOptions {
  /** Output frame rate (frames are dropped or repeated by ffmpeg's fps filter); 'source' keeps every frame. */
  fps?: number | 'source';
  width: number;
  height: number;
  signal?: AbortSignal;
  /** Yield what decodes and do not throw for errors ffmpeg logs while still exiting 0. Default false. */
  tolerateErrors?: boolean;
  /** Use these tools instead of locateFfmpeg(). */
  tools?: FfmpegLocation;
}

export interface DecodedFrame {
  index: number;
  /** Row-major RGB, height·width·3 bytes; each frame owns its buffer. */
  rgb: Uint8Array;
}

/** The frame-rate filter extraction decodes with: playback proxies use the same one, so picture n is row n. */
export function fpsFilter(fps: number): string {
  return `fps=${fps}`;
}

/** The ffmpeg arguments for decoding `file` to raw RGB on stdout (exported for the benchmark and tests). */
export function decodeArgs(file: string, options: Pick<DecodeOptions, 'fps' | 'width' | 'height'>): string[] {
  const { width, height } = options;
  const fps = options.fps ?? 30;
  // Bilinear on the full frame, with accurate rounding and full-resolution chroma for faithful colours.
  const filters = [`scale=${width}:${height}:flags=bilinear+accurate_rnd+full_chroma_int`];
  if (fps !== 'source') filters.unshift(fpsFilter(fps));
  return [
    ...firstVideoStreamInput(file),
    '-an',
    '-sn',
    '-dn',
    '-vf',
    filters.join(','),
    // Keep exactly the frames the filter chain produces (no extra duplication or dropping by the muxer).
    '-vsync',
    'passthrough',
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    'pipe:1',
  ];
}

function validate(file: string, options: DecodeOptions): void {
  const { width, height, fps = 30 } = options;
  for (const [name, value] of [
    ['width', width],
    ['height', height],
  ] as const) {
    if (!Number.isInteger(value) || value <= 0 || value > 16384) {
      throw new Error(`${file}: decode ${name} must be a positive integer, got ${value}`);
    }
  }
  if (fps !== 'source' && !(Number.isFinite(fps) && fps > 0)) {
    throw new Error(`${file}: decode fps must be a positive number or 'source', got ${fps}`);
  }
}

export async function* decodeFrames(file: string, options: DecodeOptions): AsyncGenerator<DecodedFrame> {
  validate(file, options);
  const { signal } = options;
  if (signal?.aborted) throw asCancelled(signal.reason);
  await assertReadableInput(file);
  const tools = options.tools ?? (await locateFfmpeg());
  if (signal?.aborted) throw asCancelled(signal.reason);

  const frameBytes = options.width * options.height * 3;
  const child = spawn(tools.ffmpeg, decodeArgs(file, options), {
    stdio: ['ignore', 'pipe', 'pipe'],
    windowsHide: true,
  });
  const stderr = new StderrTail();
  child.stderr.on('data', (chunk: Buffer) => stderr.push(chunk));
  let spawnError: Error | null = null;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('error', (err) => {
      spawnError = err;
      resolve({ code: null, signal: null });
    });
    child.on('close', (code, sig) => resolve({ code, signal: sig }));
  });
  const kill = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  signal?.addEventListener('abort', kill, { once: true });

  let index = 0;
  let frame = new Uint8Array(frameBytes);
  let filled = 0;
  try {
    for await (const chunk of child.stdout as AsyncIterable<Buffer>) {
      let offset = 0;
      while (offset < chunk.length) {
        const take = Math.min(frameBytes - filled, chunk.length - offset);
        frame.set(chunk.subarray(offset, offset + take), filled);
        filled += take;
        offset += take;
        if (filled === frameBytes) {
          yield { index: index++, rgb: frame };
          if (signal?.aborted) throw asCancelled(signal.reason);
          frame = new Uint8Array(frameBytes);
          filled = 0;
        }
      }
    }
    const result = await exited;
    if (signal?.aborted) throw asCancelled(signal.reason);
    if (spawnError) throw new Error(`${file}: cannot start ffmpeg (${(spawnError as Error).message})`);
    const lines = stderr.lines();
    if (result.code !== 0) {
      const what = index > 0 ? `decoding failed after ${index} frames` : 'decoding failed';
      throw new Error(describeInputFailure(file, lines, what));
    }
    if (!options.tolerateErrors && stderr.count() > 0) {
      throw new Error(
        `${file}: damaged or truncated video, decoding stopped with errors after ${index} frames (${lastToolLine(file, lines)})`,
      );
    }
    if (index === 0) throw new Error(`${file}: no decodable video frames`);
  } finally {
    // Early return, a throw in the consumer, or abort: do not leave ffmpeg running.
    signal?.removeEventListener('abort', kill);
    kill();
    await exited;
  }
}
