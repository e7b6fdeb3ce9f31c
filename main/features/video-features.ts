/**
 * Features of videos through a backbone: the decode (worker thread, ffmpeg's fps filter, whole frame
 * resized) → CNN path that dataset extraction (extract.ts) and one-video extraction share, so a video's
 * rows are the same whichever way they were made. One video's features go to memory or to a one-video
 * feature dataset folder (reference layout, split `video`), with progress and abort.
 */
import { existsSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { asCancelled, etaFrom, throwIfAborted, type Progress } from '../../common/progress.ts';
import { writeDatasetJson, writeFeatureDataset } from '../../model/data/writer.ts';
import { probeVideo } from '../media/probe.ts';
import type { Backbone } from './backbone.ts';
import { decodeVideos } from './frame-source.ts';

/** Frames per CNN batch, as extraction: batches start at frame 0, N, 2N, … of each video. */
export const FEATURE_BATCH = 16;

export type FeatureEvent =
  | { kind: 'rows'; video: number; rows: Float32Array; count: number }
  | { kind: 'end'; video: number; frames: number }
  | { kind: 'error'; video: number; message: string };

/** Location-major feature rows (count, L, D) of `files`, video by video, batch by batch. */
export async function* featureBatches(
  files: readonly string[],
  backbone: Backbone,
  opts: { fps: number; batch?: number },
): AsyncGenerator<FeatureEvent> {
  for await (const event of decodeVideos(files, {
    fps: opts.fps,
    size: backbone.inputSize,
    batch: opts.batch ?? FEATURE_BATCH,
  })) {
    // Buffered frames and wasm inference resolve as microtasks only: yield to the event loop once per
    // batch, so messages (a worker's cancel) are not held back until the whole run is over.
    await new Promise((resolve) => setImmediate(resolve));
    if (event.kind === 'frames') {
      yield {
        kind: 'rows',
        video: event.video,
        rows: await backbone.infer(event.rgb, event.count),
        count: event.count,
      };
    } else yield event;
  }
}

export interface VideoFeatures {
  /** (frames, L, D), location-major. */
  rows: Float32Array;
  frames: number;
  L: number;
  D: number;
}

export interface VideoFeatureOptions {
  /** Frames per second decoded (default 30). */
  fps?: number;
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** One video's features in memory. A video that does not decode is a one-line error naming it. */
export async function extractVideoFeatures(
  file: string,
  backbone: Backbone,
  opts: VideoFeatureOptions = {},
): Promise<VideoFeatures> {
  const fps = opts.fps ?? 30;
  throwIfAborted(opts.signal);
  const info = await probeVideo(file, { countFrames: false, signal: opts.signal });
  const expected = Math.max(1, Math.round(info.duration * fps));
  const width = backbone.L * backbone.D;
  const parts: Float32Array[] = [];
  let frames = 0;
  const started = performance.now();
  try {
    for await (const event of featureBatches([file], backbone, { fps })) {
      throwIfAborted(opts.signal);
      if (event.kind === 'error') throw new Error(event.message);
      if (event.kind === 'end') break;
      parts.push(event.rows);
      frames += event.count;
      const rate = frames / ((performance.now() - started) / 1000);
      opts.onProgress?.({
        fraction: Math.min(0.99, frames / expected),
        rate,
        rateUnit: 'frames/s',
        eta: etaFrom(Math.max(0, expected - frames), rate),
        message: `${frames}/${expected} frames`,
      });
    }
  } catch (err) {
    if (opts.signal?.aborted) throw asCancelled(opts.signal.reason);
    throw err;
  }
  const rows = new Float32Array(frames * width);
  let at = 0;
  for (const p of parts) {
    rows.set(p, at);
    at += p.length;
  }
  return { rows, frames, L: backbone.L, D: backbone.D };
}

/** The split name of a one-video feature folder. */
export const VIDEO_SPLIT = 'video';

/**
 * Writes one video's features as a feature dataset folder (`video_features.h5` …, dataset.json), made in
 * a temp folder and renamed into place, so `outDir` is complete or absent.
 */
export async function writeVideoFeatures(
  file: string,
  backbone: Backbone,
  outDir: string,
  opts: VideoFeatureOptions & { backboneSpec?: string } = {},
): Promise<VideoFeatures> {
  const fps = opts.fps ?? 30;
  const features = await extractVideoFeatures(file, backbone, opts);
  const temp = `${outDir}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(path.dirname(outDir), { recursive: true });
  try {
    await writeFeatureDataset(
      temp,
      VIDEO_SPLIT,
      [{ file: path.basename(file), label: 0, frames: features.rows }],
      features.L,
      features.D,
    );
    await writeDatasetJson(temp, {
      backbone: backbone.id,
      frameSize: { width: backbone.inputSize, height: backbone.inputSize },
      fps,
      locations: features.L,
      ctxDim: features.D,
      layout: 'channel-major',
      provenance: {
        video: { file, backbone: opts.backboneSpec ?? backbone.source.spec, tool: 'glimpse engine' },
      },
    });
    if (existsSync(outDir)) await rm(outDir, { recursive: true, force: true });
    await rename(temp, outDir);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  return features;
}
