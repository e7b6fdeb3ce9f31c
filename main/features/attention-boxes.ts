/**
 * Attention against ground truth: the share of attention mass on the K×K grid cells that an actor's box
 * covers, against the share of the frame those cells cover (their count / L). The ratio of the two is
 * 1.0 for attention no better than uniform.
 *
 * Geometry: the whole frame is resized to the backbone's input (no crop), so a box scales with the frame
 * and the grid divides the frame into K equal columns and rows; cell (row, col) covers
 * [col/K, (col+1)/K) × [row/K, (row+1)/K) of the frame. A cell counts as covered when the box overlaps it
 * with positive area. Step t of a clip starting at frame s shows frame s + t; steps past the end of a short
 * video repeat its last frame (the reference padding).
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { clipFrameIndices } from '../../common/clips.ts';

/** [x, y, w, h] in pixels of the source frame, top-left origin. */
export type Box = [number, number, number, number];

export interface VideoBoxes {
  /** Size of the frames the boxes refer to. */
  width: number;
  height: number;
  /** Frame rate of the boxes (the video's). */
  fps: number;
  frames: Box[];
}

export interface AttentionOnActor {
  /** Mean over steps of the attention mass inside the actor's cells. */
  massInside: number;
  /** Mean over steps of the share of the grid those cells make up. */
  areaInside: number;
  /** massInside / areaInside: 1.0 = no better than uniform attention. */
  ratio: number;
  /** Steps measured. */
  steps: number;
}

/** Grid cells (l = row·K + col) that `box` overlaps, for a frame of width × height. */
export function cellsCoveredByBox(box: Box, width: number, height: number, K: number): number[] {
  const [x, y, w, h] = box;
  // Fractions of the frame; the resize to the backbone's input scales both the box and the grid alike.
  const span = (start: number, size: number, extent: number): [number, number] => {
    // In cell units (K per frame side), computed as start·K/extent so that exact edges stay exact.
    const lo = Math.max(0, (start * K) / extent);
    const hi = Math.min(K, ((start + size) * K) / extent);
    if (!(hi > lo)) return [0, -1];
    // Cell i covers [i, i+1): the first overlapped is floor(lo), the last ceil(hi) − 1.
    return [Math.min(K - 1, Math.floor(lo)), Math.max(0, Math.ceil(hi) - 1)];
  };
  const [c0, c1] = span(x, w, width);
  const [r0, r1] = span(y, h, height);
  const cells: number[] = [];
  for (let r = r0; r <= r1; r++) for (let c = c0; c <= c1; c++) cells.push(r * K + c);
  return cells;
}

/** Reads `<video without extension>.boxes.json` (or `<video>.boxes.json`) under `dir`; null if neither exists. */
export async function readVideoBoxes(dir: string, videoFile: string): Promise<VideoBoxes | null> {
  const stem = videoFile.slice(0, videoFile.length - path.extname(videoFile).length);
  const candidates = [path.join(dir, `${stem}.boxes.json`), path.join(dir, `${videoFile}.boxes.json`)];
  const file = candidates.find((f) => existsSync(f));
  if (!file) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(
      `${file}: not valid JSON (${err instanceof Error ? err.message.split('\n')[0] : String(err)})`,
    );
  }
  const b = parsed as Partial<VideoBoxes> | null;
  const positive = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (!b || !positive(b.width) || !positive(b.height) || !Array.isArray(b.frames) || b.frames.length === 0) {
    throw new Error(`${file}: not an actor boxes file (needs width, height and a non-empty 'frames' list)`);
  }
  b.frames.forEach((box, i) => {
    if (
      !Array.isArray(box) ||
      box.length !== 4 ||
      !box.every((v) => typeof v === 'number' && Number.isFinite(v))
    ) {
      throw new Error(`${file}: frame ${i}: box must be [x, y, w, h]`);
    }
  });
  return {
    width: b.width as number,
    height: b.height as number,
    fps: positive(b.fps) ? (b.fps as number) : 0,
    frames: b.frames,
  };
}

/** The box shown by feature row `frame` when rows were extracted at `featureFps`. */
function boxAt(boxes: VideoBoxes, frame: number, featureFps: number | undefined): Box {
  const source = featureFps && boxes.fps ? Math.round((frame * boxes.fps) / featureFps) : frame;
  return boxes.frames[Math.min(source, boxes.frames.length - 1)];
}

export interface ClipAttention {
  start: number;
  /** alpha[t][l], l = row·K + col. */
  alpha: number[][];
}

export interface VideoAttention {
  file: string;
  /** Rows of the video in the feature split. */
  frames: number;
  clips: ClipAttention[];
}

export interface AttentionOnActorOptions {
  /** Folder the boxes files sit in, beside the videos (paths as in `{split}_filename.txt`). */
  boxesDir: string;
  /** L = K·K locations. */
  locations: number;
  /** Frame rate of the feature rows (dataset.json), to map rows to box frames; default: one box per row. */
  featureFps?: number;
}

/** Measures attention on the actor over every step of every clip; videos without a boxes file are an error. */
export async function attentionOnActor(
  videos: readonly VideoAttention[],
  opts: AttentionOnActorOptions,
): Promise<AttentionOnActor> {
  const K = Math.round(Math.sqrt(opts.locations));
  if (K * K !== opts.locations) {
    throw new Error(`attention on actor: ${opts.locations} locations do not form a square grid`);
  }
  let mass = 0;
  let area = 0;
  let steps = 0;
  for (const video of videos) {
    const boxes = await readVideoBoxes(opts.boxesDir, video.file);
    if (!boxes)
      throw new Error(`${path.join(opts.boxesDir, video.file)}: no actor boxes file beside this video`);
    for (const clip of video.clips) {
      const frames = clipFrameIndices(video.frames, clip.start, clip.alpha.length);
      clip.alpha.forEach((alpha, t) => {
        if (alpha.length !== opts.locations) {
          throw new Error(
            `${video.file}: attention has ${alpha.length} values per step, expected ${opts.locations}`,
          );
        }
        const cells = cellsCoveredByBox(
          boxAt(boxes, frames[t], opts.featureFps),
          boxes.width,
          boxes.height,
          K,
        );
        for (const l of cells) mass += alpha[l];
        area += cells.length / opts.locations;
        steps++;
      });
    }
  }
  if (steps === 0) throw new Error('attention on actor: no attention steps to measure');
  const massInside = mass / steps;
  const areaInside = area / steps;
  return { massInside, areaInside, ratio: areaInside > 0 ? massInside / areaInside : 0, steps };
}
