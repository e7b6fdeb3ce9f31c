/**
 * How much a candidate interpretation looks like CNN feature maps of video frames, measured on sample
 * frames (location-major (count, L, D), as gatherFrames gives them):
 * - spatial: the mean correlation of 4-neighbouring cells' feature vectors minus that of all other cell
 *   pairs (channels standardised over the cells first, so the shared channel profile does not count);
 *   about 0 for a scrambled grid, clearly positive for real maps;
 * - temporal: the correlation of consecutive frames minus that of distant ones. Spatial coherence alone
 *   cannot tell frames from channels in a transposed array (both axes leave the grid intact); consecutive
 *   video frames look alike, consecutive channels do not.
 * Every sum is O(L·D) per frame (the all-pairs sum comes from the sum of the vectors), so a 56×56 grid
 * costs no more than its values.
 */

/** Channels of one frame standardised over its cells, (L, D); a channel constant over the grid stays 0. */
function standardise(frame: Float32Array, L: number, D: number): Float64Array {
  const z = new Float64Array(L * D);
  for (let c = 0; c < D; c++) {
    let mean = 0;
    for (let l = 0; l < L; l++) mean += frame[l * D + c];
    mean /= L;
    let variance = 0;
    for (let l = 0; l < L; l++) variance += (frame[l * D + c] - mean) ** 2;
    const sd = Math.sqrt(variance / L);
    if (!(sd > 1e-12 * (Math.abs(mean) + 1))) continue;
    for (let l = 0; l < L; l++) z[l * D + c] = (frame[l * D + c] - mean) / sd;
  }
  return z;
}

/** Spatial coherence of one frame on a K×K grid (row-major cells), or null when nothing varies. */
function frameSpatial(frame: Float32Array, K: number, D: number): number | null {
  const L = K * K;
  const z = standardise(frame, L, D);
  // Unit-length cell vectors: their dot products are the correlations.
  const sum = new Float64Array(D);
  let cells = 0;
  for (let l = 0; l < L; l++) {
    let norm = 0;
    for (let c = 0; c < D; c++) norm += z[l * D + c] ** 2;
    norm = Math.sqrt(norm);
    if (norm === 0) continue;
    cells++;
    for (let c = 0; c < D; c++) {
      z[l * D + c] /= norm;
      sum[c] += z[l * D + c];
    }
  }
  if (cells < 3) return null;
  const dot = (a: number, b: number) => {
    let s = 0;
    for (let c = 0; c < D; c++) s += z[a * D + c] * z[b * D + c];
    return s;
  };
  let near = 0;
  let nearPairs = 0;
  for (let i = 0; i < K; i++) {
    for (let j = 0; j < K; j++) {
      const l = i * K + j;
      if (j + 1 < K) {
        near += dot(l, l + 1);
        nearPairs++;
      }
      if (i + 1 < K) {
        near += dot(l, l + K);
        nearPairs++;
      }
    }
  }
  let total = 0;
  for (let c = 0; c < D; c++) total += sum[c] * sum[c];
  // Σ over unordered pairs l < m of z_l·z_m = (|Σ z_l|² − Σ |z_l|²) / 2, with |z_l| = 1 for the cells counted.
  const allPairs = (total - cells) / 2;
  const pairs = (cells * (cells - 1)) / 2;
  const farPairs = pairs - nearPairs;
  if (farPairs <= 0 || nearPairs <= 0) return null;
  return near / nearPairs - (allPairs - near) / farPairs;
}

/** Mean spatial coherence over `count` frames; 0 when no frame varies. */
export function spatialCoherence(frames: Float32Array, count: number, K: number, D: number): number {
  const size = K * K * D;
  let total = 0;
  let used = 0;
  for (let f = 0; f < count; f++) {
    const s = frameSpatial(frames.subarray(f * size, (f + 1) * size), K, D);
    if (s === null) continue;
    total += s;
    used++;
  }
  return used > 0 ? total / used : 0;
}

function pearson(a: Float64Array, b: Float64Array): number {
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < a.length; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= a.length;
  mb /= b.length;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i] - ma;
    const y = b[i] - mb;
    ab += x * y;
    aa += x * x;
    bb += y * y;
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
}

/**
 * Temporal coherence of sample pairs: `frames` holds 2·pairs location-major frames (each sample and the
 * frame after it). Each frame's channels are standardised over its cells first, so what is compared is the
 * spatial pattern and not the channel profile every frame shares. Consecutive correlation minus the
 * correlation with the next pair's sample.
 */
export function temporalCoherence(frames: Float32Array, pairs: number, K: number, D: number): number {
  if (pairs < 2) return 0;
  const L = K * K;
  const at = (k: number) => standardise(frames.subarray(k * L * D, (k + 1) * L * D), L, D);
  const z = Array.from({ length: 2 * pairs }, (_, k) => at(k));
  let next = 0;
  let far = 0;
  for (let p = 0; p < pairs; p++) {
    next += pearson(z[2 * p], z[2 * p + 1]);
    far += pearson(z[2 * p], z[2 * ((p + 1) % pairs)]);
  }
  return (next - far) / pairs;
}

/**
 * Per-cell maps of one frame for the side-by-side preview: the first principal component of the
 * standardised cell vectors (power iteration on ZᵀZ, sign fixed so the strongest cell is positive) and
 * the feature energy Σ_c x² per cell. L values each, row-major.
 */
export function previewMaps(frame: Float32Array, K: number, D: number): { pc1: number[]; energy: number[] } {
  const L = K * K;
  const z = standardise(frame, L, D);
  const energy = Array.from({ length: L }, (_, l) => {
    let e = 0;
    for (let c = 0; c < D; c++) e += frame[l * D + c] ** 2;
    return e;
  });
  // Start from a fixed, non-degenerate direction so the preview is the same every time.
  let v = Float64Array.from({ length: D }, (_, c) => 1 + ((c * 7919) % 13) / 13);
  const u = new Float64Array(L);
  for (let iter = 0; iter < 30; iter++) {
    for (let l = 0; l < L; l++) {
      let s = 0;
      for (let c = 0; c < D; c++) s += z[l * D + c] * v[c];
      u[l] = s;
    }
    const next = new Float64Array(D);
    for (let l = 0; l < L; l++) for (let c = 0; c < D; c++) next[c] += z[l * D + c] * u[l];
    let norm = 0;
    for (const x of next) norm += x * x;
    norm = Math.sqrt(norm);
    if (norm === 0) break;
    v = next.map((x) => x / norm);
  }
  for (let l = 0; l < L; l++) {
    let s = 0;
    for (let c = 0; c < D; c++) s += z[l * D + c] * v[c];
    u[l] = s;
  }
  let strongest = 0;
  for (let l = 0; l < L; l++) if (Math.abs(u[l]) > Math.abs(u[strongest])) strongest = l;
  const sign = u[strongest] < 0 ? -1 : 1;
  return { pc1: Array.from(u, (x) => sign * x), energy };
}
