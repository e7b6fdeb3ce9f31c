/**
 * Frame layouts. On disk (the reference files, written from MATLAB) a frame row is channel-major:
 * element (l, c) sits at `l + L·c`. In memory the model wants location-major: (l, c) at `l·D + c`.
 * l is the grid cell in row-major order, l = gridRow·K + gridCol.
 */

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
  for (let f = 0; f < frames; f++) {
    const base = f * width;
    for (let c = 0; c < D; c++) {
      const from = base + L * c;
      for (let l = 0; l < L; l++) dst[base + l * D + c] = src[from + l];
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
    for (let c = 0; c < D; c++) {
      const to = base + L * c;
      for (let l = 0; l < L; l++) dst[to + l] = src[base + l * D + c];
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
