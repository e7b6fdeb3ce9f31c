/**
 * Frame layouts. On disk (the reference files, written from MATLAB) a frame row is channel-major:
 * element (l, c) sits at `l + L·c`. In memory the model wants location-major: (l, c) at `l·D + c`.
 * l is the grid cell in row-major order, l = gridRow·K + gridCol.
 */

/** Channels per tile of the transposes: 64 cache lines, well inside L1. */
const TILE = 64;

/** Converts `frames` channel-major rows of width L·D into location-major (frames, L, D). */
export function channelMajorToLocationMajor(
  src: Float32Array,
  L: number,
  D: number,
  frames: number = src.length / (L * D),
  dst: Float32Array = new Float32Array(frames * L * D),
): Float32Array {
  checkSizes(src, dst, L, D, frames);
  const width = L * D;
  // Tiled over channels so that the strided reads of one tile stay in cache across locations.
  for (let f = 0; f < frames; f++) {
    const base = f * width;
    for (let c0 = 0; c0 < D; c0 += TILE) {
      const c1 = Math.min(D, c0 + TILE);
      for (let l = 0; l < L; l++) {
        const to = base + l * D;
        for (let c = c0; c < c1; c++) dst[to + c] = src[base + L * c + l];
      }
    }
  }
  return dst;
}

/** Converts location-major (frames, L, D) into channel-major rows of width L·D, the on-disk layout. */
export function locationMajorToChannelMajor(
  src: Float32Array,
  L: number,
  D: number,
  frames: number = src.length / (L * D),
  dst: Float32Array = new Float32Array(frames * L * D),
): Float32Array {
  checkSizes(src, dst, L, D, frames);
  const width = L * D;
  for (let f = 0; f < frames; f++) {
    const base = f * width;
    for (let c0 = 0; c0 < D; c0 += TILE) {
      const c1 = Math.min(D, c0 + TILE);
      for (let l = 0; l < L; l++) {
        const from = base + l * D;
        for (let c = c0; c < c1; c++) dst[base + L * c + l] = src[from + c];
      }
    }
  }
  return dst;
}

function checkSizes(src: Float32Array, dst: Float32Array, L: number, D: number, frames: number): void {
  if (!Number.isInteger(frames) || frames < 0) {
    throw new Error(`layout: ${src.length} values are not a whole number of frames of ${L}×${D}`);
  }
  const needed = frames * L * D;
  if (src.length < needed || dst.length < needed) {
    throw new Error(`layout: need ${needed} values for ${frames} frames of ${L}×${D}`);
  }
}
