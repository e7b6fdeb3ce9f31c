/**
 * Frame layouts. On disk (the reference files, written from MATLAB) a frame row is channel-major:
 * element (l, c) sits at `l + L·c`. In memory the model wants location-major: (l, c) at `l·D + c`.
 * l is the grid cell in row-major order, l = gridRow·K + gridCol.
 */

/** Rows per tile of the transposes: 64 cache lines of strided reads, well inside L1. */
const TILE = 64;

/**
 * Transposes each of `frames` rows×cols matrices: dst[c·rows + r] = src[r·cols + c]. Tiled over rows so that the
 * strided reads of one tile stay in cache while the writes run contiguously.
 */
function transposeFrames(
  src: Float32Array,
  dst: Float32Array,
  rows: number,
  cols: number,
  frames: number,
): void {
  const size = rows * cols;
  for (let f = 0; f < frames; f++) {
    const base = f * size;
    for (let r0 = 0; r0 < rows; r0 += TILE) {
      const r1 = Math.min(rows, r0 + TILE);
      for (let c = 0; c < cols; c++) {
        const to = base + c * rows;
        for (let r = r0; r < r1; r++) dst[to + r] = src[base + r * cols + c];
      }
    }
  }
}

/** Converts `frames` channel-major rows of width L·D into location-major (frames, L, D). */
export function channelMajorToLocationMajor(
  src: Float32Array,
  L: number,
  D: number,
  frames: number = src.length / (L * D),
  dst: Float32Array = new Float32Array(frames * L * D),
): Float32Array {
  checkSizes(src, dst, L, D, frames);
  // On disk a frame is a D×L matrix (channel rows); in memory it is its L×D transpose.
  transposeFrames(src, dst, D, L, frames);
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
  transposeFrames(src, dst, L, D, frames);
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
