// Which encoder implements a codec in a given ffmpeg build, and the arguments we encode with.
// Both builds we ship against (Debian 5.1 and @ffmpeg-installer's 2018 static 4.x) have libx264, libvpx,
// mpeg4, mjpeg and ffv1; libopenh264 is the fallback for H.264 builds without libx264.
import { runTool } from './tool-process.ts';

export type VideoCodec = 'h264' | 'mpeg4' | 'mjpeg' | 'vp8' | 'vp9' | 'ffv1';

export const VIDEO_CODECS: readonly VideoCodec[] = ['h264', 'mpeg4', 'mjpeg', 'vp8', 'vp9', 'ffv1'];

const ENCODER_PREFERENCE: Record<VideoCodec, readonly string[]> = {
  h264: ['libx264', 'libopenh264'],
  mpeg4: ['mpeg4'],
  mjpeg: ['mjpeg'],
  vp8: ['libvpx'],
  vp9: ['libvpx-vp9'],
  ffv1: ['ffv1'],
};

const encoderLists = new Map<string, Promise<Set<string>>>();

/** Names of the video encoders an ffmpeg binary has (cached per binary). */
export function videoEncoders(ffmpeg: string): Promise<Set<string>> {
  let list = encoderLists.get(ffmpeg);
  if (!list) {
    list = runTool(ffmpeg, ['-hide_banner', '-encoders'], { timeoutMs: 30_000 }).then((result) => {
      const names = new Set<string>();
      for (const line of result.stdout.split('\n')) {
        const m = /^\s*V[A-Z.]{5}\s+(\S+)/.exec(line);
        if (m) names.add(m[1]);
      }
      return names;
    });
    encoderLists.set(ffmpeg, list);
  }
  return list;
}

/** The first available encoder for `codec`, or null when this ffmpeg cannot encode it. */
export async function pickEncoder(ffmpeg: string, codec: VideoCodec): Promise<string | null> {
  const available = await videoEncoders(ffmpeg);
  return ENCODER_PREFERENCE[codec].find((name) => available.has(name)) ?? null;
}

/** Pixel format each encoder is fed; 4:2:0 formats need even frame sizes. */
export function encoderPixFmt(encoder: string): string {
  if (encoder === 'ffv1') return 'gbrp'; // planar RGB: lossless round trip of rgb24 frames
  if (encoder === 'mjpeg') return 'yuvj444p';
  return 'yuv420p';
}

export interface EncoderSettings {
  /** Frames between keyframes; 1 makes every frame a keyframe (exact seeking). */
  keyframeInterval: number;
  /** One thread and bit-exact flags, so that the same frames give the same bytes. */
  deterministic: boolean;
  /** Favour encoding speed over size (playback proxies). */
  fast?: boolean;
}

/** Encoder arguments (after the input, before the output). */
export function encoderArgs(encoder: string, settings: EncoderSettings): string[] {
  const args = ['-c:v', encoder, '-pix_fmt', encoderPixFmt(encoder), '-g', String(settings.keyframeInterval)];
  switch (encoder) {
    case 'libx264':
      args.push('-preset', settings.fast ? 'veryfast' : 'medium', '-crf', '18');
      if (settings.keyframeInterval === 1) args.push('-keyint_min', '1', '-sc_threshold', '0');
      break;
    case 'libopenh264':
      args.push('-b:v', '8M');
      break;
    case 'mpeg4':
    case 'mjpeg':
      args.push('-q:v', '2');
      break;
    case 'libvpx':
      args.push('-crf', '8', '-b:v', '8M', '-auto-alt-ref', '0', '-lag-in-frames', '0');
      args.push('-deadline', settings.fast ? 'realtime' : 'good', '-cpu-used', settings.fast ? '8' : '2');
      break;
    case 'libvpx-vp9':
      args.push('-crf', '30', '-b:v', '0', '-deadline', settings.fast ? 'realtime' : 'good');
      args.push('-cpu-used', settings.fast ? '8' : '2', '-row-mt', settings.deterministic ? '0' : '1');
      break;
    case 'ffv1':
      args.push('-level', '1');
      break;
  }
  if (settings.deterministic) args.push('-threads', '1', '-flags:v', '+bitexact');
  return args;
}

/** Muxer for an output file name, from its extension. */
export function muxerFor(file: string): string | null {
  const ext = /\.([^./\\]+)$/.exec(file)?.[1]?.toLowerCase();
  const muxers: Record<string, string> = {
    mp4: 'mp4',
    m4v: 'mp4',
    mov: 'mov',
    avi: 'avi',
    mkv: 'matroska',
    webm: 'webm',
  };
  return ext ? (muxers[ext] ?? null) : null;
}
