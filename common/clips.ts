/**
 * The reference windowing of videos into clips (util/data_handler.py): where clips start and which frames a
 * clip reads. Node-free: the renderer maps Inspect's steps to frames with the same code.
 */

function checkWindow(maxlen: number, stride: number, skip: number): void {
  for (const [name, v] of [
    ['maxlen', maxlen],
    ['stride', stride],
    ['skip', skip],
  ] as const) {
    if (!Number.isInteger(v) || v <= 0)
      throw new Error(`clips: ${name} must be a positive integer, got ${v}`);
  }
}

/**
 * Clip starts within a video of `frames` frames: range(0, frames − maxlen·skip + 1, stride), or [0]
 * when the video is shorter than one window. `skip` = 30 / fps as in the reference (1 by default).
 */
export function clipStarts(frames: number, maxlen: number, stride: number, skip = 1): number[] {
  checkWindow(maxlen, stride, skip);
  const end = frames - maxlen * skip + 1;
  if (end <= 0) return [0];
  const starts: number[] = [];
  for (let s = 0; s < end; s += stride) starts.push(s);
  return starts;
}

/**
 * Frame offsets (within the video) of the clip starting at `start`: every `skip`-th frame; when the
 * video ends first, the frames it has and then its last one repeated up to `maxlen`.
 */
export function clipFrameIndices(frames: number, start: number, maxlen: number, skip = 1): number[] {
  checkWindow(maxlen, 1, skip);
  if (!Number.isInteger(start) || start < 0 || start >= frames) {
    throw new Error(`clips: start ${start} is outside a video of ${frames} frames`);
  }
  const available = 1 + Math.floor((frames - start - 1) / skip);
  const out: number[] = [];
  for (let t = 0; t < maxlen; t++) out.push(start + Math.min(t, available - 1) * skip);
  return out;
}
