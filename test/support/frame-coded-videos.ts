/**
 * Test videos whose every frame shows its own index as a machine-readable code, so a test can tell which
 * frame is on screen from the picture alone (no fonts, no OCR). The frame is a 4×4 grid of black/white
 * cells: a white and a black reference cell, 12 bits of the index (most significant first), an even-parity
 * cell and its complement. Cells are large and sampled at their centres, so the code survives lossy codecs,
 * chroma subsampling and any scaling that keeps the whole frame.
 */
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { replaceAtomically } from '../../model/atomic-file.ts';
import { decodeFrames } from '../../main/media/decode.ts';
import { encodeFrames } from '../../main/media/encode.ts';
import { locateFfmpeg } from '../../main/media/locate.ts';
import { fileArg, lastToolLine, runTool } from '../../main/media/tool-process.ts';

export const CODE_BITS = 12;
const GRID = 4;
const WHITE_CELL = 0;
const BLACK_CELL = 1;
const FIRST_BIT_CELL = 2;
const PARITY_CELL = FIRST_BIT_CELL + CODE_BITS;
const NOT_PARITY_CELL = PARITY_CELL + 1;

function parity(index: number): number {
  let p = 0;
  for (let v = index; v; v >>= 1) p ^= v & 1;
  return p;
}

/** Cell values (1 white, 0 black) for a frame index, in grid order. */
function cellBits(index: number): number[] {
  const cells = new Array<number>(GRID * GRID);
  cells[WHITE_CELL] = 1;
  cells[BLACK_CELL] = 0;
  for (let b = 0; b < CODE_BITS; b++) cells[FIRST_BIT_CELL + b] = (index >> (CODE_BITS - 1 - b)) & 1;
  cells[PARITY_CELL] = parity(index);
  cells[NOT_PARITY_CELL] = 1 - parity(index);
  return cells;
}

/** The RGB24 picture of frame `index` (0 ≤ index < 4096). */
export function frameCodeImage(index: number, width: number, height: number): Uint8Array {
  if (!Number.isInteger(index) || index < 0 || index >= 1 << CODE_BITS) {
    throw new Error(`frame code: index ${index} outside 0..${(1 << CODE_BITS) - 1}`);
  }
  const cells = cellBits(index);
  const rgb = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const row = Math.min(GRID - 1, Math.floor((y * GRID) / height));
    for (let x = 0; x < width; x++) {
      const col = Math.min(GRID - 1, Math.floor((x * GRID) / width));
      rgb.fill(cells[row * GRID + col] ? 255 : 0, (y * width + x) * 3, (y * width + x) * 3 + 3);
    }
  }
  return rgb;
}

/** Mean luma of the central half of a cell. */
function cellLuma(
  pixels: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels: number,
  cell: number,
): number {
  const row = Math.floor(cell / GRID);
  const col = cell % GRID;
  const x0 = Math.floor(((col + 0.25) * width) / GRID);
  const x1 = Math.ceil(((col + 0.75) * width) / GRID);
  const y0 = Math.floor(((row + 0.25) * height) / GRID);
  const y1 = Math.ceil(((row + 0.75) * height) / GRID);
  let sum = 0;
  let n = 0;
  for (let y = y0; y < y1; y++) {
    for (let x = x0; x < x1; x++) {
      const at = (y * width + x) * channels;
      sum += 0.299 * pixels[at] + 0.587 * pixels[at + 1] + 0.114 * pixels[at + 2];
      n++;
    }
  }
  return sum / n;
}

/**
 * The index a picture shows, or null when it shows no clean code (a blend of two frames, something drawn
 * over it, not a coded frame at all). `channels` is 4 for RGBA (canvas, screenshots), 3 for RGB24.
 */
export function readFrameCode(
  pixels: Uint8Array | Uint8ClampedArray,
  width: number,
  height: number,
  channels = 4,
): number | null {
  if (pixels.length < width * height * channels || width < GRID || height < GRID) {
    throw new Error(`frame code: ${pixels.length} bytes is not a ${width}×${height}×${channels} picture`);
  }
  const white = cellLuma(pixels, width, height, channels, WHITE_CELL);
  const black = cellLuma(pixels, width, height, channels, BLACK_CELL);
  if (white - black < 128) return null;
  const threshold = (white + black) / 2;
  const margin = (white - black) / 4;
  const bits: number[] = [];
  for (let cell = FIRST_BIT_CELL; cell <= NOT_PARITY_CELL; cell++) {
    const luma = cellLuma(pixels, width, height, channels, cell);
    if (Math.abs(luma - threshold) < margin) return null;
    bits.push(luma > threshold ? 1 : 0);
  }
  let index = 0;
  for (let b = 0; b < CODE_BITS; b++) index = (index << 1) | bits[b];
  const p = bits[CODE_BITS];
  if (p !== parity(index) || bits[CODE_BITS + 1] !== 1 - p) return null;
  return index;
}

export interface FrameCodedVideo {
  path: string;
  /** What the file is, for test names: 'h264-long-gop', 'mpeg4-xvid-avi', 'h264-25fps'. */
  kind: string;
  width: number;
  height: number;
  /** The source's own frame rate and frame count. */
  sourceFps: number;
  sourceFrames: number;
  /** Code of every frame ffmpeg's fps filter gives at 30 fps: what feature row n (and proxy frame n) shows. */
  codesAt30: number[];
}

export interface FrameCodedOptions {
  width?: number;
  height?: number;
  /** Source duration in seconds (default 10). */
  seconds?: number;
  signal?: AbortSignal;
}

function* codedFrames(count: number, width: number, height: number): Generator<Uint8Array> {
  for (let i = 0; i < count; i++) yield frameCodeImage(i, width, height);
}

/** Codes of the frames ffmpeg decodes from `file` at `fps`; throws when a frame carries no clean code. */
export async function decodedCodes(
  file: string,
  width: number,
  height: number,
  fps: number | 'source' = 30,
  signal?: AbortSignal,
): Promise<number[]> {
  const codes: number[] = [];
  for await (const frame of decodeFrames(file, { fps, width, height, signal })) {
    const code = readFrameCode(frame.rgb, width, height, 3);
    if (code === null) throw new Error(`${file}: decoded frame ${frame.index} carries no readable code`);
    codes.push(code);
  }
  return codes;
}

async function describe(
  file: string,
  kind: string,
  width: number,
  height: number,
  sourceFps: number,
  sourceFrames: number,
  signal?: AbortSignal,
): Promise<FrameCodedVideo> {
  const codesAt30 = await decodedCodes(file, width, height, 30, signal);
  return { path: file, kind, width, height, sourceFps, sourceFrames, codesAt30 };
}

/** H.264 (libx264, B-frames) in MP4 at 30 fps with keyframes 250 frames apart: seeks land mid-GOP. */
export async function makeLongGopH264(
  dir: string,
  options: FrameCodedOptions = {},
): Promise<FrameCodedVideo> {
  const { width = 320, height = 240, seconds = 10, signal } = options;
  const file = path.join(dir, 'coded-h264-long-gop.mp4');
  const count = Math.round(seconds * 30);
  await encodeFrames(
    file,
    { width, height, fps: 30, codec: 'h264', keyframeInterval: 250, signal },
    codedFrames(count, width, height),
  );
  return describe(file, 'h264-long-gop', width, height, 30, count, signal);
}

/** MPEG-4 part 2 (ffmpeg's `mpeg4`) in AVI at 30 fps, tagged XVID as Xvid files are: Chromium cannot play it. */
export async function makeXvidAvi(dir: string, options: FrameCodedOptions = {}): Promise<FrameCodedVideo> {
  const { width = 320, height = 240, seconds = 10, signal } = options;
  const file = path.join(dir, 'coded-mpeg4-xvid.avi');
  const untagged = path.join(dir, 'coded-mpeg4-untagged.avi');
  const count = Math.round(seconds * 30);
  await encodeFrames(
    untagged,
    { width, height, fps: 30, codec: 'mpeg4', keyframeInterval: 250, signal },
    codedFrames(count, width, height),
  );
  // ffmpeg's mpeg4 encoder writes FourCC FMP4; a stream copy only changes the tag.
  const { ffmpeg } = await locateFfmpeg();
  await replaceAtomically(file, async (temp) => {
    const args = ['-hide_banner', '-nostdin', '-v', 'error', '-i', fileArg(untagged)];
    args.push('-map', '0:v:0', '-c', 'copy', '-vtag', 'XVID', '-f', 'avi', '-y', fileArg(temp));
    const result = await runTool(ffmpeg, args, { signal, timeoutMs: 60_000 });
    if (result.code !== 0) {
      throw new Error(`${file}: re-tagging failed (${lastToolLine(temp, result.stderr.split('\n'))})`);
    }
  });
  await rm(untagged, { force: true });
  return describe(file, 'mpeg4-xvid-avi', width, height, 30, count, signal);
}

/** H.264 in MP4 at 25 fps: the engine resamples it to 30 with ffmpeg's fps filter, repeating some frames. */
export async function makeH264At25(dir: string, options: FrameCodedOptions = {}): Promise<FrameCodedVideo> {
  const { width = 320, height = 240, seconds = 10, signal } = options;
  const file = path.join(dir, 'coded-h264-25fps.mp4');
  const count = Math.round(seconds * 25);
  await encodeFrames(
    file,
    { width, height, fps: 25, codec: 'h264', keyframeInterval: 250, signal },
    codedFrames(count, width, height),
  );
  return describe(file, 'h264-25fps', width, height, 25, count, signal);
}

/** All three, written into `dir`. */
export async function makeFrameCodedVideos(
  dir: string,
  options: FrameCodedOptions = {},
): Promise<{ h264: FrameCodedVideo; xvid: FrameCodedVideo; h264At25: FrameCodedVideo }> {
  return {
    h264: await makeLongGopH264(dir, options),
    xvid: await makeXvidAvi(dir, options),
    h264At25: await makeH264At25(dir, options),
  };
}
