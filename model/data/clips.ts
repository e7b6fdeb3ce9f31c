/**
 * Clips of a feature split: every window of every video (the windowing itself is common/clips.ts) and
 * batched reading of clips as (T, B, L, D) blocks. A batch reads each needed row range once (consecutive
 * clips of one video overlap in all but `stride` rows) and keeps the last batch's rows as a small cache
 * for the next one.
 */
import { clipFrameIndices, clipStarts } from '../../common/clips.ts';
import type { FeatureSplit } from './split.ts';

export interface Clip {
  /** Index into split.videos. */
  video: number;
  /** Offset of the first frame within the video. */
  start: number;
}

export interface ClipBatch {
  /** (T, B, L, D), location-major per frame. */
  x: Float32Array;
  T: number;
  B: number;
  L: number;
  D: number;
}

/** Every clip of every video, in video order then start order (the reference test order). */
export function enumerateClips(split: FeatureSplit, maxlen: number, stride: number, skip = 1): Clip[] {
  const clips: Clip[] = [];
  for (const video of split.videos) {
    for (const start of clipStarts(video.frames, maxlen, stride, skip))
      clips.push({ video: video.index, start });
  }
  return clips;
}

/** A run of consecutive rows, location-major. */
interface Segment {
  start: number;
  count: number;
  rows: Float32Array;
}

export interface ReadClipsOptions {
  /** Take every skip-th frame (30 / fps in the reference); 1 by default. */
  skip?: number;
  /**
   * Fill this buffer instead of allocating x (fresh memory is slow to touch on some machines). Only
   * for callers that copy x before the next read: tfjs's cpu backend keeps the array it is given.
   */
  out?: Float32Array;
}

export interface ClipBatcherOptions {
  /** Bytes of rows kept from one batch for the next (default 64 MiB). */
  cacheBytes?: number;
  /** Rows per hyperslab read (default: as many as fit in 64 MiB). */
  maxReadRows?: number;
}

/** Reads batches of clips from one split, reusing rows the previous batch already read. */
export class ClipBatcher {
  private cache: Segment[] = [];
  private readonly cacheBytes: number;
  private readonly maxReadRows: number;
  private readonly width: number;

  constructor(
    private readonly split: FeatureSplit,
    opts: ClipBatcherOptions = {},
  ) {
    this.width = split.L * split.D;
    this.cacheBytes = opts.cacheBytes ?? 64 * 1024 * 1024;
    this.maxReadRows = Math.max(1, opts.maxReadRows ?? Math.floor((64 * 1024 * 1024) / (this.width * 4)));
  }

  /** The clips as one (T = maxlen, B = clips.length, L, D) block. */
  read(clips: readonly Clip[], maxlen: number, opts: ReadClipsOptions = {}): ClipBatch {
    const { L, D, videos } = this.split;
    const skip = opts.skip ?? 1;
    const T = maxlen;
    const B = clips.length;
    const rowsOf = clips.map((clip) => {
      const video = videos[clip.video];
      if (!video)
        throw new Error(`${this.split.featuresPath}: clip names video ${clip.video} of ${videos.length}`);
      return clipFrameIndices(video.frames, clip.start, maxlen, skip).map((f) => video.firstRow + f);
    });
    const segments = this.load(mergeRanges(rowsOf, maxlen));
    const size = T * B * this.width;
    if (opts.out && opts.out.length < size) {
      throw new Error(
        `${this.split.featuresPath}: output buffer of ${opts.out.length} values is too small for ${size}`,
      );
    }
    const x = opts.out ? opts.out.subarray(0, size) : new Float32Array(size);
    let seg = 0;
    // Visit (b, t) in row order per clip; segments are sorted, so a short search from the last hit suffices.
    for (let b = 0; b < B; b++) {
      for (let t = 0; t < T; t++) {
        const row = rowsOf[b][t];
        if (!(segments[seg].start <= row && row < segments[seg].start + segments[seg].count)) {
          seg = findSegment(segments, row);
        }
        const s = segments[seg];
        const from = (row - s.start) * this.width;
        x.set(s.rows.subarray(from, from + this.width), (t * B + b) * this.width);
      }
    }
    this.keep(segments);
    return { x, T, B, L, D };
  }

  /** Drops the cached rows. */
  clear(): void {
    this.cache = [];
  }

  /** Segments covering `ranges`, from the cache where possible and by hyperslab reads otherwise. */
  private load(ranges: readonly [number, number][]): Segment[] {
    return ranges.map(([start, end]) => {
      const count = end - start;
      const rows = new Float32Array(count * this.width);
      let cursor = start;
      while (cursor < end) {
        const hit = this.cache.find((s) => s.start <= cursor && cursor < s.start + s.count);
        if (hit) {
          const upto = Math.min(end, hit.start + hit.count);
          rows.set(
            hit.rows.subarray((cursor - hit.start) * this.width, (upto - hit.start) * this.width),
            (cursor - start) * this.width,
          );
          cursor = upto;
          continue;
        }
        const nextCached = this.cache.reduce((m, s) => (s.start > cursor && s.start < m ? s.start : m), end);
        const upto = Math.min(nextCached, cursor + this.maxReadRows);
        this.split.readRows(
          cursor,
          upto - cursor,
          rows.subarray((cursor - start) * this.width, (upto - start) * this.width),
        );
        cursor = upto;
      }
      return { start, count, rows };
    });
  }

  /** Keeps the latest segments (those with the highest rows) within the cache budget. */
  private keep(segments: readonly Segment[]): void {
    const kept: Segment[] = [];
    let bytes = 0;
    for (let i = segments.length - 1; i >= 0; i--) {
      const size = segments[i].rows.byteLength;
      if (bytes + size > this.cacheBytes) break;
      kept.push(segments[i]);
      bytes += size;
    }
    this.cache = kept;
  }
}

/**
 * Sorted, disjoint row ranges [start, end) covering every clip's rows. Ranges closer than `gap` rows are
 * merged: one read is cheaper than two, and `gap` bounds what is read but not used.
 */
function mergeRanges(rowsOf: readonly number[][], gap: number): [number, number][] {
  const spans = rowsOf
    .map((rows): [number, number] => [Math.min(...rows), Math.max(...rows) + 1])
    .sort((a, b) => a[0] - b[0]);
  const merged: [number, number][] = [];
  for (const [s, e] of spans) {
    const last = merged[merged.length - 1];
    if (last && s <= last[1] + gap) last[1] = Math.max(last[1], e);
    else merged.push([s, e]);
  }
  return merged;
}

function findSegment(segments: readonly Segment[], row: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (segments[mid].start <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

const batchers = new WeakMap<FeatureSplit, ClipBatcher>();

/**
 * The clips as one (T, B, L, D) block, through a per-split ClipBatcher so that consecutive batches
 * (as in evaluation at stride 1) share their overlapping rows.
 */
export function readClipBatch(
  split: FeatureSplit,
  clips: readonly Clip[],
  maxlen: number,
  opts: ReadClipsOptions = {},
): ClipBatch {
  let batcher = batchers.get(split);
  if (!batcher) {
    batcher = new ClipBatcher(split);
    batchers.set(split, batcher);
  }
  return batcher.read(clips, maxlen, opts);
}
