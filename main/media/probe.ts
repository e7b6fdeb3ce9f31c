// Video metadata: with ffprobe (JSON) when available, else from `ffmpeg -i` output.
// A probe that succeeds does not prove the file decodes to its end (a truncated AVI still probes);
// decodeFrames reports that.
import { assertReadableInput } from './input-file.ts';
import { locateFfmpeg, type FfmpegLocation } from './locate.ts';
import { describeInputFailure, fileArg, firstVideoStreamInput, runTool } from './tool-process.ts';

export interface VideoInfo {
  file: string;
  /** Demuxer name(s) as ffmpeg reports them, e.g. "avi", "mov,mp4,m4a,3gp,3g2,mj2", "matroska,webm". */
  container: string;
  /** Seconds. */
  duration: number;
  /** Frames per second of the video stream (average rate, else the base rate). */
  fps: number;
  /** Frames in the video stream: the container's count when it records one, else counted by decoding
   * (a full decode: slow for long videos), or with `countFrames: false` estimated as round(duration·fps). */
  frameCount: number;
  frameCountSource: 'container' | 'counted' | 'estimated';
  /** Display size: swapped from the coded size when the video carries a 90° or 270° rotation. */
  width: number;
  height: number;
  /** Clockwise rotation, in degrees, that ffmpeg applies when decoding (0, 90, 180, 270). */
  rotation: number;
  /** ffmpeg codec name: "h264", "mpeg4", "mpeg1video", "vp8", ... */
  codec: string;
  pixFmt: string;
  /** Always true: probeVideo throws for files without a video stream. */
  hasVideo: true;
  hasAudio: boolean;
}

export interface ProbeOptions {
  /** Use these tools instead of locateFfmpeg() (tests use it to force the ffmpeg-only path). */
  tools?: FfmpegLocation;
  signal?: AbortSignal;
  /** Decode to count frames when the container does not record them (default true); false estimates. */
  countFrames?: boolean;
}

const PROBE_TIMEOUT_MS = 60_000;
const COUNT_TIMEOUT_MS = 10 * 60_000;

export async function probeVideo(file: string, options: ProbeOptions = {}): Promise<VideoInfo> {
  await assertReadableInput(file);
  const tools = options.tools ?? (await locateFfmpeg());
  const count = options.countFrames ?? true;
  return tools.ffprobe
    ? probeWithFfprobe(file, tools.ffprobe, count, options.signal)
    : probeWithFfmpeg(file, tools.ffmpeg, count, options.signal);
}

// ---------- ffprobe ----------

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function str(obj: Json, key: string): string | undefined {
  const value = obj[key];
  return typeof value === 'string' ? value : typeof value === 'number' ? String(value) : undefined;
}

function num(obj: Json, key: string): number | undefined {
  const text = str(obj, key);
  if (text === undefined || text === 'N/A') return undefined;
  const value = Number(text);
  return Number.isFinite(value) ? value : undefined;
}

/** "30000/1001" → 29.97…; undefined for "0/0" and other non-rates. */
export function parseRate(text: string | undefined): number | undefined {
  if (!text) return undefined;
  const [a, b = '1'] = text.split('/');
  const value = Number(a) / Number(b);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** ffmpeg decodes with the display matrix applied; normalise its angle to 0/90/180/270 clockwise. */
function normaliseRotation(degrees: number | undefined): number {
  if (degrees === undefined || !Number.isFinite(degrees)) return 0;
  return (((Math.round(degrees / 90) * 90) % 360) + 360) % 360;
}

async function probeWithFfprobe(
  file: string,
  ffprobe: string,
  countFrames: boolean,
  signal?: AbortSignal,
): Promise<VideoInfo> {
  const result = await runTool(
    ffprobe,
    ['-v', 'error', '-print_format', 'json', '-show_format', '-show_streams', '-i', fileArg(file)],
    { signal, timeoutMs: PROBE_TIMEOUT_MS },
  );
  const errLines = result.stderr.split('\n').filter((l) => l.trim());
  if (result.code !== 0) throw new Error(describeInputFailure(file, errLines, 'ffprobe failed'));
  let parsed: unknown;
  try {
    parsed = JSON.parse(result.stdout);
  } catch {
    throw new Error(`${file}: ffprobe gave unreadable output`);
  }
  if (!isObject(parsed)) throw new Error(`${file}: ffprobe gave unreadable output`);
  const format = isObject(parsed.format) ? parsed.format : {};
  const streams = Array.isArray(parsed.streams) ? parsed.streams.filter(isObject) : [];
  const isCoverArt = (s: Json) => isObject(s.disposition) && s.disposition.attached_pic === 1;
  const video = streams.find((s) => s.codec_type === 'video' && !isCoverArt(s));
  if (!video) throw new Error(`${file}: no video stream`);

  const codedWidth = num(video, 'width') ?? 0;
  const codedHeight = num(video, 'height') ?? 0;
  if (!(codedWidth > 0 && codedHeight > 0)) throw new Error(`${file}: video stream has no frame size`);
  const sideData = Array.isArray(video.side_data_list) ? video.side_data_list.filter(isObject) : [];
  const matrix = sideData.find((d) => num(d, 'rotation') !== undefined);
  const tags = isObject(video.tags) ? video.tags : {};
  // The display matrix angle is counter-clockwise; the legacy `rotate` tag is clockwise.
  const rotation = matrix
    ? normaliseRotation(-(num(matrix, 'rotation') ?? 0))
    : normaliseRotation(num(tags, 'rotate'));
  const swap = rotation === 90 || rotation === 270;

  const duration = num(video, 'duration') ?? num(format, 'duration');
  const rate = parseRate(str(video, 'avg_frame_rate')) ?? parseRate(str(video, 'r_frame_rate'));
  let frameCount = num(video, 'nb_frames') ?? 0;
  let frameCountSource: VideoInfo['frameCountSource'] = 'container';
  if (!(frameCount > 0)) {
    if (!countFrames && rate && duration) {
      frameCount = Math.round(duration * rate);
      frameCountSource = 'estimated';
    } else {
      frameCount = await countFramesWithFfprobe(file, ffprobe, signal);
      frameCountSource = 'counted';
    }
  }
  const fps = rate ?? (duration ? frameCount / duration : undefined);
  if (!fps) throw new Error(`${file}: cannot tell the frame rate`);

  return {
    file,
    container: str(format, 'format_name') ?? 'unknown',
    duration: duration ?? frameCount / fps,
    fps,
    frameCount,
    frameCountSource,
    width: swap ? codedHeight : codedWidth,
    height: swap ? codedWidth : codedHeight,
    rotation,
    codec: str(video, 'codec_name') ?? 'unknown',
    pixFmt: str(video, 'pix_fmt') ?? 'unknown',
    hasVideo: true,
    hasAudio: streams.some((s) => s.codec_type === 'audio'),
  };
}

async function countFramesWithFfprobe(file: string, ffprobe: string, signal?: AbortSignal): Promise<number> {
  const result = await runTool(
    ffprobe,
    [
      '-v',
      'error',
      '-count_frames',
      '-select_streams',
      'v:0',
      '-show_entries',
      'stream=nb_read_frames',
      '-print_format',
      'json',
      '-i',
      fileArg(file),
    ],
    { signal, timeoutMs: COUNT_TIMEOUT_MS },
  );
  const errLines = result.stderr.split('\n').filter((l) => l.trim());
  if (result.code !== 0) throw new Error(describeInputFailure(file, errLines, 'counting frames failed'));
  const match = /"nb_read_frames"\s*:\s*"?(\d+)/.exec(result.stdout);
  const count = match ? Number(match[1]) : 0;
  if (!(count > 0)) throw new Error(describeInputFailure(file, errLines, 'no decodable video frames'));
  return count;
}

// ---------- ffmpeg -i (no ffprobe) ----------

/** Splits on commas that are not inside parentheses or brackets: "yuv420p(tv, bt709), 320x240" → 2 parts. */
function splitTopLevel(text: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const ch of text) {
    if (ch === '(' || ch === '[') depth++;
    if (ch === ')' || ch === ']') depth = Math.max(0, depth - 1);
    if (ch === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else current += ch;
  }
  if (current.trim()) parts.push(current.trim());
  return parts;
}

/** ffmpeg prints rates rounded ("29.97 fps"); recover the exact NTSC rates. */
function exactRate(printed: number): number {
  for (const base of [24, 30, 48, 60, 120]) {
    const ntsc = (base * 1000) / 1001;
    if (Math.abs(printed - ntsc) < 0.006) return ntsc;
  }
  return printed;
}

function parseRateToken(text: string): number | undefined {
  const m = /^([\d.]+)(k?)$/.exec(text);
  if (!m) return undefined;
  const value = Number(m[1]) * (m[2] ? 1000 : 1);
  return Number.isFinite(value) && value > 0 ? value : undefined;
}

/** Parsed fields of `ffmpeg -i` stderr; exported for tests. */
export function parseFfmpegInputReport(report: string): {
  container?: string;
  duration?: number;
  codec?: string;
  pixFmt?: string;
  width?: number;
  height?: number;
  fps?: number;
  rotation: number;
  hasVideo: boolean;
  hasAudio: boolean;
} {
  const lines = report.split(/\r?\n/);
  const container = /^Input #0, (.+?), from /m.exec(report)?.[1];
  const d = /Duration: (\d+):(\d+):(\d+(?:\.\d+)?)/.exec(report);
  const duration = d ? Number(d[1]) * 3600 + Number(d[2]) * 60 + Number(d[3]) : undefined;
  const hasAudio = lines.some((l) => /Stream #0:\d+.*: Audio: /.test(l));
  const videoLineIndex = lines.findIndex(
    (l) => /Stream #0:\d+.*: Video: /.test(l) && !/\(attached pic\)/.test(l),
  );
  if (videoLineIndex < 0) return { container, duration, rotation: 0, hasVideo: false, hasAudio };

  const description = lines[videoLineIndex].replace(/^.*?: Video: /, '');
  const parts = splitTopLevel(description);
  const codec = /^[\w-]+/.exec(parts[0] ?? '')?.[0];
  const pixFmt = /^[\w]+/.exec(parts[1] ?? '')?.[0];
  let width: number | undefined;
  let height: number | undefined;
  let fps: number | undefined;
  let tbr: number | undefined;
  for (const part of parts.slice(1)) {
    const size = /^(\d+)x(\d+)/.exec(part);
    if (size && width === undefined) {
      width = Number(size[1]);
      height = Number(size[2]);
    }
    const rate = /^(\S+) (fps|tbr)$/.exec(part);
    if (rate?.[2] === 'fps') fps = parseRateToken(rate[1]);
    if (rate?.[2] === 'tbr') tbr = parseRateToken(rate[1]);
  }
  // Side data of this stream follows its line, before the next "Stream #" line.
  let rotation = 0;
  for (let i = videoLineIndex + 1; i < lines.length && !/Stream #/.test(lines[i]); i++) {
    const m = /displaymatrix: rotation of (-?[\d.]+) degrees/.exec(lines[i]);
    if (m) rotation = normaliseRotation(-Number(m[1]));
  }
  const rate = fps ?? tbr;
  return {
    container,
    duration,
    codec,
    pixFmt,
    width,
    height,
    fps: rate === undefined ? undefined : exactRate(rate),
    rotation,
    hasVideo: true,
    hasAudio,
  };
}

async function probeWithFfmpeg(
  file: string,
  ffmpeg: string,
  countFrames: boolean,
  signal?: AbortSignal,
): Promise<VideoInfo> {
  // Without an output ffmpeg exits 1 after printing the input report; that is expected.
  const result = await runTool(ffmpeg, ['-hide_banner', '-nostdin', '-i', fileArg(file)], {
    signal,
    timeoutMs: PROBE_TIMEOUT_MS,
  });
  const errLines = result.stderr.split('\n').filter((l) => l.trim());
  if (!/^Input #0/m.test(result.stderr))
    throw new Error(describeInputFailure(file, errLines, 'ffmpeg failed'));
  const report = parseFfmpegInputReport(result.stderr);
  if (!report.hasVideo) throw new Error(`${file}: no video stream`);
  if (!(report.width && report.height)) throw new Error(`${file}: video stream has no frame size`);
  // `ffmpeg -i` never shows the container's frame count: count, or estimate when asked to.
  const estimate = !countFrames && report.fps && report.duration;
  const frameCount = estimate
    ? Math.round((report.duration ?? 0) * (report.fps ?? 0))
    : await countFramesWithFfmpeg(file, ffmpeg, signal);
  const fps = report.fps ?? (report.duration ? frameCount / report.duration : undefined);
  if (!fps) throw new Error(`${file}: cannot tell the frame rate`);
  const swap = report.rotation === 90 || report.rotation === 270;
  return {
    file,
    container: report.container ?? 'unknown',
    duration: report.duration ?? frameCount / fps,
    fps,
    frameCount,
    frameCountSource: estimate ? 'estimated' : 'counted',
    width: swap ? report.height : report.width,
    height: swap ? report.width : report.height,
    rotation: report.rotation,
    codec: report.codec ?? 'unknown',
    pixFmt: report.pixFmt ?? 'unknown',
    hasVideo: true,
    hasAudio: report.hasAudio,
  };
}

/** Decodes the first video stream to nowhere and reads ffmpeg's final frame counter. */
async function countFramesWithFfmpeg(file: string, ffmpeg: string, signal?: AbortSignal): Promise<number> {
  const result = await runTool(
    ffmpeg,
    [
      ...firstVideoStreamInput(file),
      '-vsync',
      'passthrough',
      '-f',
      'null',
      '-progress',
      'pipe:1',
      '-nostats',
      '-',
    ],
    { signal, timeoutMs: COUNT_TIMEOUT_MS },
  );
  const errLines = result.stderr.split('\n').filter((l) => l.trim());
  const counts = [...result.stdout.matchAll(/^frame=\s*(\d+)/gm)];
  const count = counts.length ? Number(counts[counts.length - 1][1]) : 0;
  if (result.code !== 0 || !(count > 0)) {
    throw new Error(describeInputFailure(file, errLines, 'no decodable video frames'));
  }
  return count;
}
