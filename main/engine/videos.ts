/**
 * Opened videos: probe, a playback proxy at the feature rate (picture n = feature row n, see proxy.ts),
 * its registration for serving, and frames by row for the renderer.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { decodeFrames } from '../media/decode.ts';
import { probeVideo } from '../media/probe.ts';
import { contentHash, makePlaybackProxy } from '../media/proxy.ts';
import type { FramesRequest, FramesResult, VideoSummary } from './api.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';
import type { MediaRegistry } from './media-registry.ts';

export const DEFAULT_FEATURE_FPS = 30;

interface OpenedVideo {
  summary: VideoSummary;
  proxy: string;
}

export class VideoLibrary {
  private readonly opened = new Map<string, OpenedVideo>();
  private readonly pending = new Map<string, Promise<OpenedVideo>>();
  private readonly byRate = new Map<string, { stamp: string; video: OpenedVideo }>();

  constructor(
    private readonly proxyDir: string,
    private readonly media: MediaRegistry,
    private readonly mediaUrl: (id: string) => string,
  ) {}

  /** Opens `file` for playback at `fps` feature rows per second (made once, then cached on disk). */
  async open(file: string, fps = DEFAULT_FEATURE_FPS, signal?: AbortSignal): Promise<VideoSummary> {
    const key = `${path.resolve(file)}|${fps}`;
    const known = this.byRate.get(key);
    if (known && (await this.stamp(file)) === known.stamp) {
      this.opened.set(path.resolve(file), known.video);
      return known.video.summary;
    }
    let job = this.pending.get(key);
    if (!job) {
      job = this.make(file, fps, signal).finally(() => this.pending.delete(key));
      this.pending.set(key, job);
    }
    const video = await job;
    this.opened.set(path.resolve(file), video);
    return video.summary;
  }

  /** Size and mtime: a changed file is probed and proxied again. */
  private async stamp(file: string): Promise<string> {
    const s = await stat(file);
    return `${path.resolve(file)}|${s.size}|${s.mtimeMs}`;
  }

  private async make(file: string, fps: number, signal?: AbortSignal): Promise<OpenedVideo> {
    return aboutFile(file, async () => {
      const stamp = await this.stamp(file);
      // The summary is kept beside the proxies, so a restarted engine reopens a video without probing it.
      const memo = path.join(
        this.proxyDir,
        `${createHash('sha256').update(`${stamp}|${fps}`).digest('hex').slice(0, 32)}.json`,
      );
      const remembered = await readFile(memo, 'utf8').then(
        (text) => JSON.parse(text) as OpenedVideo,
        () => null,
      );
      if (remembered && existsSync(remembered.proxy)) {
        remembered.summary.playback.url = this.mediaUrl(this.media.register(remembered.proxy));
        this.byRate.set(`${path.resolve(file)}|${fps}`, { stamp, video: remembered });
        return remembered;
      }
      const info = await probeVideo(file, { countFrames: false, signal });
      const proxy = await makePlaybackProxy(file, this.proxyDir, { fps, signal });
      const proxyInfo = await probeVideo(proxy, { signal });
      const id = this.media.register(proxy);
      const summary: VideoSummary = {
        path: file,
        hash: await contentHash(file),
        width: info.width,
        height: info.height,
        durationS: info.duration,
        codec: info.codec,
        container: info.container,
        sourceFps: info.fps,
        playback: {
          url: this.mediaUrl(id),
          fps,
          frames: proxyInfo.frameCount,
          width: proxyInfo.width,
          height: proxyInfo.height,
        },
      };
      const video = { summary, proxy };
      await writeFileAtomic(memo, JSON.stringify(video));
      this.byRate.set(`${path.resolve(file)}|${fps}`, { stamp, video });
      return video;
    });
  }

  /** The summary of a video opened before, or a not-found error saying it must be opened first. */
  get(file: string): VideoSummary {
    const video = this.opened.get(path.resolve(file));
    if (!video) throw new GlimpseError('not-found', `${file}: this video has not been opened`, file);
    return video.summary;
  }

  /** RGBA pictures of the given rows, decoded at the playback rate exactly as extraction decodes. */
  async frames(request: FramesRequest, signal?: AbortSignal): Promise<FramesResult> {
    const summary = this.get(request.path);
    const { playback } = summary;
    const bad = request.indices.find((i) => i >= playback.frames);
    if (bad !== undefined)
      throw new GlimpseError(
        'bad-request',
        `${request.path}: frame ${bad} is past the last frame (${playback.frames - 1})`,
        request.path,
      );
    const width = request.width ?? playback.width;
    // Even sizes keep every consumer (canvas, encoders) happy; the aspect is the proxy's.
    const height = Math.max(2, Math.round((width * playback.height) / playback.width / 2) * 2);
    const wanted = new Set(request.indices);
    const last = Math.max(...request.indices);
    const found = new Map<number, Uint8Array>();
    await aboutFile(request.path, async () => {
      for await (const frame of decodeFrames(request.path, {
        fps: playback.fps,
        width,
        height,
        signal,
        tolerateErrors: true,
      })) {
        if (wanted.has(frame.index)) found.set(frame.index, rgbToRgba(frame.rgb));
        if (frame.index >= last) break;
      }
    });
    const frames = request.indices.map((i) => {
      const f = found.get(i);
      if (!f) throw new GlimpseError('bad-file', `${request.path}: frame ${i} does not decode`, request.path);
      return f;
    });
    return { width, height, frames };
  }
}

export function rgbToRgba(rgb: Uint8Array): Uint8Array {
  const n = rgb.length / 3;
  const out = new Uint8Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = rgb[i * 3];
    out[i * 4 + 1] = rgb[i * 3 + 1];
    out[i * 4 + 2] = rgb[i * 3 + 2];
    out[i * 4 + 3] = 255;
  }
  return out;
}
