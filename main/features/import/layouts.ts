/**
 * The interpretations of a feature array of another layout. A file holds `(frames, L·D)` rows or
 * `(frames, K, K, D)` / `(frames, D, K, K)` arrays, in C order (as h5py and NumPy write) or Fortran order
 * (a MATLAB array as h5py sees it: every dimension reversed, so the frames are the last axis and the
 * grid's row and column swap places). Each candidate says how to read frame n, grid cell (row, col) and
 * channel c from the file; gatherFrames turns a block of frames into the location-major (frames, L, D)
 * the reference writer takes.
 */

export type StorageOrder = 'C' | 'F';

/** How one frame is laid out, in the C-order view of the logical array. */
export type Arrangement = 'rows-channel-major' | 'rows-location-major' | 'frames-k-k-d' | 'frames-d-k-k';

export interface LayoutCandidate {
  /** Stable name for `--layout`, e.g. 'kkd-f', 'rows-channel-7x7-c'. */
  id: string;
  arrangement: Arrangement;
  order: StorageOrder;
  frames: number;
  K: number;
  L: number;
  D: number;
  /** The file axis that counts frames: 0 in C order, the last one in Fortran order. */
  frameAxis: number;
  /** One line for people, e.g. "(frames, 7, 7, 32) in Fortran order". */
  description: string;
}

/** Largest grid side tried for rows of L·D values (K = 64 is far past any CNN's final map). */
const MAX_K = 64;

const ARRANGEMENT_IDS: Record<Arrangement, string> = {
  'rows-channel-major': 'rows-channel',
  'rows-location-major': 'rows-location',
  'frames-k-k-d': 'kkd',
  'frames-d-k-k': 'dkk',
};

function candidate(
  arrangement: Arrangement,
  order: StorageOrder,
  frames: number,
  K: number,
  D: number,
  rank: number,
): LayoutCandidate {
  const rows = arrangement.startsWith('rows');
  const id = `${ARRANGEMENT_IDS[arrangement]}${rows ? `-${K}x${K}` : ''}-${order.toLowerCase()}`;
  const logical =
    arrangement === 'rows-channel-major'
      ? `(frames, L·D) rows, channel-major (l + L·c), ${K}×${K}×${D}`
      : arrangement === 'rows-location-major'
        ? `(frames, L·D) rows, location-major (l·D + c), ${K}×${K}×${D}`
        : arrangement === 'frames-k-k-d'
          ? `(frames, ${K}, ${K}, ${D})`
          : `(frames, ${D}, ${K}, ${K})`;
  return {
    id,
    arrangement,
    order,
    frames,
    K,
    L: K * K,
    D,
    frameAxis: order === 'C' ? 0 : rank - 1,
    description: `${logical} in ${order === 'C' ? 'C order' : 'Fortran order'}`,
  };
}

/**
 * Every interpretation of a dataset of this shape (grid side K ≥ 2, D ≥ 1); throws a one-line error
 * naming `file` when the rank is not 2 or 4, or when no dimension pair makes a square grid.
 */
export function enumerateCandidates(shape: readonly number[], file: string): LayoutCandidate[] {
  const dims = `[${shape.join(', ')}]`;
  if (shape.some((n) => !Number.isInteger(n) || n <= 0)) {
    throw new Error(`${file}: the features array has an empty dimension (shape ${dims})`);
  }
  const out: LayoutCandidate[] = [];
  if (shape.length === 2) {
    for (const order of ['C', 'F'] as const) {
      const [frames, width] = order === 'C' ? [shape[0], shape[1]] : [shape[1], shape[0]];
      for (let K = 2; K <= MAX_K && K * K <= width; K++) {
        if (width % (K * K) !== 0) continue;
        const D = width / (K * K);
        out.push(candidate('rows-channel-major', order, frames, K, D, 2));
        out.push(candidate('rows-location-major', order, frames, K, D, 2));
      }
    }
    if (out.length === 0) {
      throw new Error(
        `${file}: shape ${dims} has no square grid: neither ${shape[1]} nor ${shape[0]} values per frame is K·K·D for K ≥ 2`,
      );
    }
    return out;
  }
  if (shape.length === 4) {
    const [a, b, c, d] = shape;
    // C order: (frames, K, K, D) or (frames, D, K, K). Fortran order reverses them: (D, K, K, frames), (K, K, D, frames).
    if (b === c && b >= 2) out.push(candidate('frames-k-k-d', 'C', a, b, d, 4));
    if (c === d && c >= 2) out.push(candidate('frames-d-k-k', 'C', a, c, b, 4));
    if (b === c && b >= 2) out.push(candidate('frames-k-k-d', 'F', d, b, a, 4));
    if (a === b && a >= 2) out.push(candidate('frames-d-k-k', 'F', d, a, c, 4));
    if (out.length === 0) {
      throw new Error(
        `${file}: shape ${dims} has no square grid: a (frames, K, K, D) or (frames, D, K, K) array needs two equal neighbouring dimensions`,
      );
    }
    return out;
  }
  throw new Error(
    `${file}: the features array has rank ${shape.length} (shape ${dims}); expected (frames, L·D) rows or a (frames, K, K, D) / (frames, D, K, K) array`,
  );
}

/** The file shape of a block of `count` frames read along the candidate's frame axis. */
export function blockShape(shape: readonly number[], c: LayoutCandidate, count: number): number[] {
  return shape.map((n, axis) => (axis === c.frameAxis ? count : n));
}

/** Element strides (frame, grid row, grid column, channel) of a C-order block of the file. */
function strides(
  shape: readonly number[],
  c: LayoutCandidate,
  count: number,
): [number, number, number, number] {
  const block = blockShape(shape, c, count);
  const s = new Array<number>(block.length);
  let step = 1;
  for (let axis = block.length - 1; axis >= 0; axis--) {
    s[axis] = step;
    step *= block[axis];
  }
  const { K, L, D } = c;
  if (c.arrangement === 'rows-channel-major' || c.arrangement === 'rows-location-major') {
    const [frame, w] = c.order === 'C' ? [s[0], s[1]] : [s[1], s[0]];
    return c.arrangement === 'rows-channel-major' ? [frame, K * w, w, L * w] : [frame, K * D * w, D * w, w];
  }
  if (c.arrangement === 'frames-k-k-d') {
    // C: (n, row, col, c). Fortran: (c, col, row, n).
    return c.order === 'C' ? [s[0], s[1], s[2], s[3]] : [s[3], s[2], s[1], s[0]];
  }
  // C: (n, c, row, col). Fortran: (col, row, c, n).
  return c.order === 'C' ? [s[0], s[2], s[3], s[1]] : [s[3], s[1], s[0], s[2]];
}

/**
 * `count` frames of a C-order block read along the frame axis, as location-major (count, L, D):
 * frame f, cell l = row·K + col, channel c at (f·L + l)·D + c.
 */
export function gatherFrames(
  shape: readonly number[],
  c: LayoutCandidate,
  block: Float32Array,
  count: number,
  into: Float32Array = new Float32Array(count * c.L * c.D),
): Float32Array {
  const { K, L, D } = c;
  if (block.length !== count * L * D || into.length < count * L * D) {
    throw new Error(`import: a block of ${count} frames needs ${count * L * D} values, got ${block.length}`);
  }
  const [sN, sI, sJ, sC] = strides(shape, c, count);
  let at = 0;
  for (let n = 0; n < count; n++) {
    for (let i = 0; i < K; i++) {
      for (let j = 0; j < K; j++) {
        const base = n * sN + i * sI + j * sJ;
        for (let ch = 0; ch < D; ch++) into[at++] = block[base + ch * sC];
      }
    }
  }
  return into;
}
