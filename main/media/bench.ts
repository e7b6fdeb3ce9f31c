// Decode throughput for `glimpse bench`: frames through the full decodeFrames path (pipe, framing, copies).
import { decodeFrames } from './decode.ts';
import type { FfmpegLocation } from './locate.ts';

export interface DecodeBenchResult {
  frames: number;
  seconds: number;
  framesPerS: number;
}

export async function benchDecode(
  file: string,
  options: { fps: number; width: number; height: number; tools?: FfmpegLocation },
): Promise<DecodeBenchResult> {
  const start = process.hrtime.bigint();
  let frames = 0;
  for await (const frame of decodeFrames(file, options)) {
    if (frame.rgb.length > 0) frames++;
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  return { frames, seconds, framesPerS: seconds > 0 ? frames / seconds : 0 };
}
