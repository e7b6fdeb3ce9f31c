/**
 * Pixels of the synthetic action set. Each video shows one actor and a few distractors: square
 * sprites of the same size and the same two colours, all wandering over a mildly textured background.
 * Only the actor carries a class pattern (stripes of one orientation, checker, rings, ...); distractors
 * carry random block patterns that belong to no class, and the palette is drawn per video, so colour
 * and the frame average say little about the class while the actor's cell says everything.
 * Everything here is pure: the same spec gives the same frames.
 */
import seedrandom from 'seedrandom';

export interface SynthPattern {
  name: string;
  description: string;
  /** 1 where the sprite shows its bright colour; (u, v) are sprite coordinates, phase shifts the pattern. */
  at(u: number, v: number, size: number, phase: number): 0 | 1;
}

const bit = (b: boolean): 0 | 1 => (b ? 1 : 0);

/** Class patterns, in class order: strong, local, high-contrast cues of a few pixels' period. */
export const SYNTH_PATTERNS: readonly SynthPattern[] = [
  {
    name: 'horizontal',
    description: 'horizontal stripes, 4 px wide',
    at: (_u, v, _s, p) => bit(Math.floor((v + p) / 4) % 2 === 1),
  },
  {
    name: 'vertical',
    description: 'vertical stripes, 4 px wide',
    at: (u, _v, _s, p) => bit(Math.floor((u + p) / 4) % 2 === 1),
  },
  {
    name: 'diagonal',
    description: 'stripes along the diagonal, about 4 px wide',
    at: (u, v, _s, p) => bit(Math.floor((u + v + p) / 6) % 2 === 1),
  },
  {
    name: 'antidiagonal',
    description: 'stripes along the anti-diagonal, about 4 px wide',
    at: (u, v, s, p) => bit(Math.floor((u - v + 2 * s + p) / 6) % 2 === 1),
  },
  {
    name: 'checker',
    description: 'checkerboard of 5 px squares',
    at: (u, v, _s, p) => bit((Math.floor((u + p) / 5) + Math.floor((v + p) / 5)) % 2 === 1),
  },
  {
    name: 'rings',
    description: 'concentric rings, 3 px wide',
    at: (u, v, s, p) => bit(Math.floor(Math.hypot(u - (s - 1) / 2, v - (s - 1) / 2) / 3 + p) % 2 === 0),
  },
  {
    name: 'dots',
    description: '3 px dots on a 6 px grid',
    at: (u, v, _s, p) => bit((u + p) % 6 >= 3 && (v + p) % 6 >= 3),
  },
  {
    name: 'grid',
    description: '2 px lines on a 6 px grid',
    at: (u, v, _s, p) => bit((u + p) % 6 < 2 || (v + p) % 6 < 2),
  },
];

export const SYNTH_MAX_CLASSES = SYNTH_PATTERNS.length;
/** Phases 0..PHASES-1 cover every shift of every pattern. */
export const SYNTH_PATTERN_PHASES = 12;

/** The 0/1 mask (row-major, size×size) of class pattern `label` at a phase. */
export function classPatternMask(label: number, size: number, phase: number): Uint8Array {
  const pattern = SYNTH_PATTERNS[label];
  const mask = new Uint8Array(size * size);
  for (let v = 0; v < size; v++)
    for (let u = 0; u < size; u++) mask[v * size + u] = pattern.at(u, v, size, phase);
  return mask;
}

export interface SynthVideoSpec {
  /** Seed string of this one video; the same string gives the same pixels. */
  seed: string;
  label: number;
  frames: number;
  width: number;
  height: number;
  /** Side of the square sprites in pixels. */
  actorSize: number;
  distractors: number;
}

export type Box = [x: number, y: number, w: number, h: number];

export interface RenderedVideo {
  /** rgb24 frames, width×height×3 each. */
  frames: Uint8Array[];
  /** The actor's box in every frame. */
  boxes: Box[];
  /** Pattern phase of the actor (the class pattern is read at this phase). */
  phase: number;
  palette: { bright: [number, number, number]; dark: [number, number, number] };
}

type Rgb = [number, number, number];

/**
 * Near-white and near-black, jittered per video. A narrow palette keeps a fixed random CNN's response to
 * a pattern steady from video to video (measured: a linear probe on the actor's cell of a random 4-layer
 * conv net reads the class from 65% of single frames and 100% of videos; on the frame average, chance).
 */
function drawPalette(rng: () => number): { bright: Rgb; dark: Rgb } {
  const channel = (lo: number, hi: number) => lo + Math.floor(rng() * (hi - lo + 1));
  return {
    bright: [channel(225, 255), channel(225, 255), channel(225, 255)],
    dark: [channel(0, 30), channel(0, 30), channel(0, 30)],
  };
}

/** Smooth grey value noise (8 px cells, bilinear) plus fine grain, with a faint tint. */
function drawBackground(rng: () => number, width: number, height: number): Uint8Array {
  const cell = 8;
  const gw = Math.ceil(width / cell) + 1;
  const gh = Math.ceil(height / cell) + 1;
  const grid = Float64Array.from({ length: gw * gh }, () => rng() * 2 - 1);
  const base = 100 + rng() * 50;
  const tint: Rgb = [rng() * 16 - 8, rng() * 16 - 8, rng() * 16 - 8];
  const out = new Uint8Array(width * height * 3);
  for (let y = 0; y < height; y++) {
    const gy = Math.floor(y / cell);
    const fy = (y % cell) / cell;
    for (let x = 0; x < width; x++) {
      const gx = Math.floor(x / cell);
      const fx = (x % cell) / cell;
      const top = grid[gy * gw + gx] * (1 - fx) + grid[gy * gw + gx + 1] * fx;
      const bottom = grid[(gy + 1) * gw + gx] * (1 - fx) + grid[(gy + 1) * gw + gx + 1] * fx;
      const value = base + 22 * (top * (1 - fy) + bottom * fy) + (rng() * 2 - 1) * 6;
      for (let c = 0; c < 3; c++) {
        out[(y * width + x) * 3 + c] = Math.max(0, Math.min(255, Math.round(value + tint[c])));
      }
    }
  }
  return out;
}

/** A random walk with momentum that bounces off the borders: top-left corners, one per frame. */
function wander(rng: () => number, spec: SynthVideoSpec): [number, number][] {
  const maxX = spec.width - spec.actorSize;
  const maxY = spec.height - spec.actorSize;
  let x = rng() * maxX;
  let y = rng() * maxY;
  let angle = rng() * 2 * Math.PI;
  let speed = 1.5 + rng() * 1.5;
  const path: [number, number][] = [];
  for (let t = 0; t < spec.frames; t++) {
    path.push([Math.round(x), Math.round(y)]);
    angle += (rng() - 0.5) * 0.8;
    speed = Math.max(1, Math.min(3.5, speed + (rng() - 0.5) * 0.4));
    x += Math.cos(angle) * speed;
    y += Math.sin(angle) * speed;
    if (x < 0 || x > maxX) {
      x = x < 0 ? -x : 2 * maxX - x;
      angle = Math.PI - angle;
    }
    if (y < 0 || y > maxY) {
      y = y < 0 ? -y : 2 * maxY - y;
      angle = -angle;
    }
    x = Math.max(0, Math.min(maxX, x));
    y = Math.max(0, Math.min(maxY, y));
  }
  return path;
}

/** Random blocks (4 px) of the two colours: same size, colours and fill as the actor, but no class. */
function distractorMask(rng: () => number, size: number): Uint8Array {
  const block = 4;
  const n = Math.ceil(size / block);
  const blocks = Array.from({ length: n * n }, () => rng() < 0.5);
  const mask = new Uint8Array(size * size);
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++)
      mask[v * size + u] = bit(blocks[Math.floor(v / block) * n + Math.floor(u / block)]);
  }
  return mask;
}

function paint(
  frame: Uint8Array,
  width: number,
  mask: Uint8Array,
  size: number,
  at: [number, number],
  palette: { bright: Rgb; dark: Rgb },
) {
  const [x0, y0] = at;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      const colour = mask[v * size + u] ? palette.bright : palette.dark;
      const o = ((y0 + v) * width + x0 + u) * 3;
      frame[o] = colour[0];
      frame[o + 1] = colour[1];
      frame[o + 2] = colour[2];
    }
  }
}

/** What is wrong with a spec, as short phrases; empty when it can be rendered. */
export function synthSpecProblems(spec: Omit<SynthVideoSpec, 'seed'>): string[] {
  const { label, frames, width, height, actorSize, distractors } = spec;
  const problems: string[] = [];
  if (!Number.isInteger(label) || label < 0 || label >= SYNTH_MAX_CLASSES)
    problems.push(`label ${label} not in 0..${SYNTH_MAX_CLASSES - 1}`);
  if (!Number.isInteger(frames) || frames < 1) problems.push(`frames ${frames} must be a positive integer`);
  if (!Number.isInteger(actorSize) || actorSize < 8)
    problems.push(`actor size ${actorSize} must be an integer ≥ 8`);
  if (
    !Number.isInteger(width) ||
    !Number.isInteger(height) ||
    width < actorSize + 2 ||
    height < actorSize + 2
  ) {
    problems.push(`frame ${width}×${height} must be integers larger than the actor (${actorSize})`);
  }
  if (width % 2 || height % 2)
    problems.push(`frame ${width}×${height} must have even sides (video encoders need them)`);
  if (!Number.isInteger(distractors) || distractors < 0)
    problems.push(`distractors ${distractors} must be an integer ≥ 0`);
  return problems;
}

export function checkSynthVideoSpec(spec: SynthVideoSpec): void {
  const problems = synthSpecProblems(spec);
  if (problems.length) throw new Error(`synthetic video ${spec.seed}: ${problems.join('; ')}`);
}

/** Renders one video: frames and the actor's boxes. Distractors are drawn first, the actor on top. */
export function renderSynthVideo(spec: SynthVideoSpec): RenderedVideo {
  checkSynthVideoSpec(spec);
  const rng = seedrandom(spec.seed);
  const palette = drawPalette(rng);
  const background = drawBackground(rng, spec.width, spec.height);
  const phase = Math.floor(rng() * SYNTH_PATTERN_PHASES);
  const actorMask = classPatternMask(spec.label, spec.actorSize, phase);
  const actorPath = wander(rng, spec);
  const others = Array.from({ length: spec.distractors }, () => ({
    mask: distractorMask(rng, spec.actorSize),
    path: wander(rng, spec),
  }));

  const frames: Uint8Array[] = [];
  for (let t = 0; t < spec.frames; t++) {
    const frame = background.slice();
    for (const other of others) paint(frame, spec.width, other.mask, spec.actorSize, other.path[t], palette);
    paint(frame, spec.width, actorMask, spec.actorSize, actorPath[t], palette);
    frames.push(frame);
  }
  const boxes = actorPath.map(([x, y]): Box => [x, y, spec.actorSize, spec.actorSize]);
  return { frames, boxes, phase, palette };
}
