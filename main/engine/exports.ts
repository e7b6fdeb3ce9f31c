/**
 * Exports of an inspect result: a PNG filmstrip like the reference notebook's (each frame over its
 * attention overlay, the step and frame under each, a colour bar) and the video with its overlay (MP4
 * H.264 or WebM VP9). Overlays use the shared colormaps and upsampling, so they match the renderer's.
 */
import { encode as encodePng } from 'fast-png';
import { blendOverlay, colormapLut, normaliseMap, upsampleAttention } from '../../common/colormaps.ts';
import { etaFrom, throwIfAborted, type Progress } from '../../common/progress.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { decodeFrames } from '../media/decode.ts';
import { encodeFrames } from '../media/encode.ts';
import type { OverlaySettings } from './api.ts';
import type { InspectEntry } from './inspect-cache.ts';

export interface ExportHooks {
  signal?: AbortSignal;
  onProgress?: (p: Progress) => void;
}

/** The attention of feature row `row`: its step in the first clip that covers it, or null. */
export function attentionAtRow(
  entry: InspectEntry,
  row: number,
): { step: number; alpha: Float32Array } | null {
  const L = entry.meta.locations;
  for (const clip of entry.clips) {
    const t = row - clip.start;
    if (t >= 0 && t < clip.steps) return { step: t, alpha: clip.alpha.subarray(t * L, (t + 1) * L) };
  }
  return null;
}

/** 8 evenly spaced steps of the first clip (fewer when it is shorter). */
export function defaultFilmstripRows(entry: InspectEntry): number[] {
  const clip = entry.clips[0];
  const n = Math.min(8, clip.steps);
  const rows = new Set<number>();
  for (let i = 0; i < n; i++) rows.add(clip.start + Math.round((i * (clip.steps - 1)) / Math.max(1, n - 1)));
  return [...rows];
}

// A 3×5 pixel font for the labels: the digits and the few signs they need.
const GLYPHS: Record<string, string> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '.': '000000000000010',
  t: '010111010010011',
  f: '011010111010010',
  '=': '000111000111000',
  ' ': '000000000000000',
};
const SCALE = 2;
const GLYPH_W = 4 * SCALE;

function drawText(img: Uint8Array, width: number, x0: number, y0: number, text: string): void {
  let x = x0;
  for (const ch of text) {
    const bits = GLYPHS[ch] ?? GLYPHS[' '];
    for (let i = 0; i < 15; i++) {
      if (bits[i] !== '1') continue;
      const gx = x + (i % 3) * SCALE;
      const gy = y0 + Math.floor(i / 3) * SCALE;
      for (let dy = 0; dy < SCALE; dy++)
        for (let dx = 0; dx < SCALE; dx++)
          img.fill(0, ((gy + dy) * width + gx + dx) * 3, ((gy + dy) * width + gx + dx) * 3 + 3);
    }
    x += GLYPH_W;
  }
}

function paste(
  img: Uint8Array,
  width: number,
  tile: Uint8Array,
  tw: number,
  th: number,
  x0: number,
  y0: number,
): void {
  for (let y = 0; y < th; y++)
    img.set(tile.subarray(y * tw * 3, (y + 1) * tw * 3), ((y0 + y) * width + x0) * 3);
}

/** Decodes the given rows of `video` at `fps` as RGB of width × height. */
async function framesAt(
  video: string,
  rows: readonly number[],
  fps: number,
  width: number,
  height: number,
  signal?: AbortSignal,
): Promise<Map<number, Uint8Array>> {
  const wanted = new Set(rows);
  const last = Math.max(...rows);
  const found = new Map<number, Uint8Array>();
  for await (const frame of decodeFrames(video, { fps, width, height, signal, tolerateErrors: true })) {
    if (wanted.has(frame.index)) found.set(frame.index, frame.rgb);
    if (frame.index >= last) break;
  }
  return found;
}

function overlaid(
  rgb: Uint8Array,
  alpha: Float32Array,
  K: number,
  w: number,
  h: number,
  overlay: OverlaySettings,
): Uint8Array {
  const out = rgb.slice();
  blendOverlay(
    out,
    3,
    normaliseMap(upsampleAttention(alpha, K, w, h, overlay.smooth)),
    overlay.colormap,
    overlay.opacity,
  );
  return out;
}

const TILE_WIDTH = 224;
const GAP = 20;
const LABEL_H = 18;
const BAR_H = 14;

/** Writes the filmstrip PNG to `out`: per row, the frame on top and its overlay below, labelled. */
export async function writeFilmstrip(
  entry: InspectEntry,
  video: string,
  videoSize: { width: number; height: number },
  overlay: OverlaySettings,
  rows: readonly number[],
  out: string,
  hooks: ExportHooks = {},
): Promise<{ rows: number[]; width: number; height: number }> {
  const { grid: K, fps } = entry.meta;
  const bad = rows.find((r) => !attentionAtRow(entry, r));
  if (bad !== undefined)
    throw new Error(`${video}: frame ${bad} is in no inspected clip (0…${entry.meta.frames - 1})`);
  const tw = TILE_WIDTH;
  const th = Math.max(2, Math.round((tw * videoSize.height) / videoSize.width / 2) * 2);
  const frames = await framesAt(video, rows, fps, tw, th, hooks.signal);
  const width = rows.length * tw + (rows.length + 1) * GAP;
  const height = GAP + 2 * th + GAP / 2 + LABEL_H + GAP + BAR_H + LABEL_H + GAP / 2;
  const img = new Uint8Array(width * height * 3).fill(255);
  rows.forEach((row, i) => {
    throwIfAborted(hooks.signal);
    const rgb = frames.get(row);
    if (!rgb) throw new Error(`${video}: frame ${row} does not decode`);
    const at = attentionAtRow(entry, row);
    if (!at) return;
    const x = GAP + i * (tw + GAP);
    paste(img, width, rgb, tw, th, x, GAP);
    paste(img, width, overlaid(rgb, at.alpha, K, tw, th, overlay), tw, th, x, GAP + th);
    drawText(img, width, x, GAP + 2 * th + GAP / 2, `t=${at.step} f=${row}`);
    hooks.onProgress?.({
      fraction: (i + 1) / rows.length,
      rate: null,
      rateUnit: 'frames/s',
      eta: null,
      message: `frame ${i + 1}/${rows.length}`,
    });
  });
  // The colour bar: 0 (left) to the largest attention on the strip (right), which the overlay maps to 1.
  const lut = colormapLut(overlay.colormap);
  const barY = GAP + 2 * th + GAP / 2 + LABEL_H + GAP;
  const barW = width - 2 * GAP;
  for (let x = 0; x < barW; x++) {
    const level = Math.round((x / Math.max(1, barW - 1)) * 255);
    for (let y = 0; y < BAR_H; y++)
      img.set(lut.subarray(level * 3, level * 3 + 3), ((barY + y) * width + GAP + x) * 3);
  }
  drawText(img, width, GAP, barY + BAR_H + 4, '0');
  drawText(img, width, width - GAP - 3 * GLYPH_W, barY + BAR_H + 4, '1.0');
  await writeFileAtomic(out, encodePng({ width, height, data: img, channels: 3, depth: 8 }));
  return { rows: [...rows], width, height };
}

/** Writes the whole video at the feature rate with its overlay (frames outside every clip stay plain). */
export async function writeOverlayVideo(
  entry: InspectEntry,
  video: string,
  videoSize: { width: number; height: number },
  overlay: OverlaySettings,
  format: 'mp4' | 'webm',
  out: string,
  hooks: ExportHooks = {},
): Promise<{ frames: number }> {
  const { grid: K, fps, frames: total } = entry.meta;
  const width = Math.max(2, Math.floor(videoSize.width / 2) * 2);
  const height = Math.max(2, Math.floor(videoSize.height / 2) * 2);
  const started = performance.now();
  async function* pictures(): AsyncGenerator<Uint8Array> {
    for await (const frame of decodeFrames(video, {
      fps,
      width,
      height,
      signal: hooks.signal,
      tolerateErrors: true,
    })) {
      if (frame.index >= total) break;
      const at = attentionAtRow(entry, frame.index);
      yield at ? overlaid(frame.rgb, at.alpha, K, width, height, overlay) : frame.rgb;
      const done = frame.index + 1;
      const rate = done / Math.max(1e-3, (performance.now() - started) / 1000);
      hooks.onProgress?.({
        fraction: done / total,
        rate,
        rateUnit: 'frames/s',
        eta: etaFrom(total - done, rate),
        message: `${done}/${total} frames`,
      });
    }
  }
  const result = await encodeFrames(
    out,
    { width, height, fps, codec: format === 'webm' ? 'vp9' : 'h264', signal: hooks.signal },
    pictures(),
  );
  return { frames: result.frames };
}
