/**
 * Detection: every candidate interpretation of the file, scored on the same sample frames by spatial and
 * temporal coherence (coherence.ts) and ranked; candidates that contradict what is known (the total of the
 * framenum file, the L×D of the dataset the split joins) rank after the others with the reason.
 */
import { previewMaps, spatialCoherence, temporalCoherence } from './coherence.ts';
import { enumerateCandidates, gatherFrames, type LayoutCandidate } from './layouts.ts';
import type { ImportSource } from './source.ts';

export interface CandidatePreview {
  /** The frame (feature row) shown. */
  frame: number;
  /** First principal component per cell (L values, row-major). */
  pc1: number[];
  /** Σ_c x² per cell. */
  energy: number[];
}

export interface ScoredCandidate extends LayoutCandidate {
  spatial: number;
  temporal: number;
  /** spatial + temporal: the ranking key. */
  score: number;
  /** Why the candidate cannot be right given what is known, or null. */
  conflict: string | null;
  preview: CandidatePreview[];
}

export interface Detection {
  file: string;
  key: string;
  shape: number[];
  dtype: string;
  /** Best first. */
  candidates: ScoredCandidate[];
}

export interface DetectOptions {
  /** Sum of the split's frame counts, when the framenum file is known. */
  expectedFrames?: number;
  /** L and D of the dataset the split joins, when known. */
  expectedShape?: { L: number; D: number };
  /** Sample frames scored (each with the frame after it). Default 8. */
  samples?: number;
  /** Frames per candidate in the preview. Default 3. */
  previewFrames?: number;
}

function sampleStarts(frames: number, samples: number): number[] {
  const last = Math.max(0, frames - 2);
  const n = Math.min(samples, last + 1);
  const starts = Array.from({ length: n }, (_, k) => Math.floor(((k + 0.5) * (last + 1)) / n));
  return [...new Set(starts)];
}

function conflictOf(c: LayoutCandidate, opts: DetectOptions): string | null {
  if (opts.expectedFrames !== undefined && c.frames !== opts.expectedFrames) {
    return `${c.frames} frames, but the frame counts sum to ${opts.expectedFrames}`;
  }
  const want = opts.expectedShape;
  if (want && (c.L !== want.L || c.D !== want.D)) {
    return `${c.L}×${c.D} per frame, but the dataset has L=${want.L}, D=${want.D}`;
  }
  return null;
}

export function rankCandidates(candidates: ScoredCandidate[]): ScoredCandidate[] {
  return [...candidates].sort(
    (a, b) => Number(a.conflict !== null) - Number(b.conflict !== null) || b.score - a.score,
  );
}

export function detectLayouts(source: ImportSource, opts: DetectOptions = {}): Detection {
  const candidates = enumerateCandidates(source.shape, source.file);
  const samples = opts.samples ?? 8;
  const previewCount = opts.previewFrames ?? 3;
  // Blocks depend only on the frame axis: read each (axis, start) once for all candidates.
  const blocks = new Map<string, { data: Float32Array; count: number }>();
  const block = (c: LayoutCandidate, start: number) => {
    const key = `${c.frameAxis}:${start}`;
    let found = blocks.get(key);
    if (!found) {
      const count = Math.min(2, c.frames - start);
      found = { data: source.readBlock(c, start, count), count };
      blocks.set(key, found);
    }
    return found;
  };
  const scored = candidates.map((c): ScoredCandidate => {
    const starts = sampleStarts(c.frames, samples);
    const size = c.L * c.D;
    const pairs = starts.every((s) => s + 1 < c.frames) ? starts.length : 0;
    const frames = new Float32Array(starts.length * 2 * size);
    starts.forEach((s, k) => {
      const b = block(c, s);
      gatherFrames(source.shape, c, b.data, b.count, frames.subarray(k * 2 * size, (k * 2 + b.count) * size));
    });
    const firsts = new Float32Array(starts.length * size);
    starts.forEach((_, k) => firsts.set(frames.subarray(k * 2 * size, (k * 2 + 1) * size), k * size));
    const spatial = spatialCoherence(firsts, starts.length, c.K, c.D);
    const temporal = pairs > 0 ? temporalCoherence(frames, pairs, c.K, c.D) : 0;
    const shown =
      starts.length <= previewCount
        ? starts.map((_, k) => k)
        : Array.from({ length: previewCount }, (_, i) =>
            Math.round((i * (starts.length - 1)) / Math.max(1, previewCount - 1)),
          );
    const preview = shown.map((k) => ({
      frame: starts[k],
      ...previewMaps(firsts.subarray(k * size, (k + 1) * size), c.K, c.D),
    }));
    return { ...c, spatial, temporal, score: spatial + temporal, conflict: conflictOf(c, opts), preview };
  });
  return {
    file: source.file,
    key: source.key,
    shape: [...source.shape],
    dtype: source.dtype,
    candidates: rankCandidates(scored),
  };
}
