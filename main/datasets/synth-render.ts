/**
 * Pixels of the synthetic action set. Each frame of a C-class set shows C square sprites of the same size
 * and the same two colours wandering over a mildly textured background, one per class pattern (stripes
 * of one orientation, checker, rings, ...). Every sprite has a solid 2-px border: bright on the actor, dark
 * on the others. So every frame holds each class pattern exactly once and one bright border whatever the
 * class: the frame average says next to nothing about the class, and only the association "bright-bordered
 * sprite ↔ its pattern" gives it. Optional extra distractors carry random block patterns of no class.
 * The palette is drawn per video. Everything here is pure: the same spec gives the same frames.
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
  /** Class patterns shown (0..classes-1, one sprite each); the actor's is `label`. */
  classes: number;
  label: number;
  frames: number;
  width: number;
  height: number;
  /** Side of the square sprites in pixels (border included). */
  actorSize: number;
  /** Extra sprites with random block patterns (no class), besides the C patterned ones. */
  distractors: number;
}

/** Width of the solid border every sprite has: bright marks the actor, dark the others. */
export const SYNTH_MARKER_WIDTH = 2;

export type Box = [x: number, y: number, w: number, h: number];

export interface RenderedSprite {
  /** Class pattern shown, or null for a random-block distractor. */
  pattern: number | null;
  /** True for the actor (bright border). */
  marked: boolean;
  /** Its 0/1 mask, border included (row-major, actorSize²). */
  mask: Uint8Array;
  /** Its box in every frame. */
  boxes: Box[];
}

export interface RenderedVideo {
  /** rgb24 frames, width×height×3 each. */
  frames: Uint8Array[];
  /** The actor's box in every frame. */
  boxes: Box[];
  /** Pattern phase of the actor (the class pattern is read at this phase). */
  phase: number;
  /** Whether the actor's pattern has its colours swapped. */
  inverted: boolean;
  palette: { bright: [number, number, number]; dark: [number, number, number] };
  /** Every sprite, in drawing order (the actor last, on top). */
  sprites: RenderedSprite[];
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

/** Gap kept between sprites, in pixels, so that no sprite hides or touches another. */
const SPRITE_GAP = 2;

/**
 * Random walks with momentum that bounce off the borders and off each other: top-left corners, one per
 * sprite per frame. Sprites never overlap (when the frame has room for them), so every pattern is always
 * seen whole, the actor's included, and none is partly hidden more often than another.
 */
function wanderTogether(rng: () => number, spec: SynthVideoSpec, count: number): [number, number][][] {
  const maxX = spec.width - spec.actorSize;
  const maxY = spec.height - spec.actorSize;
  const reach = spec.actorSize + SPRITE_GAP;
  const clash = (x: number, y: number, self: number, at: { x: number; y: number }[]) =>
    at.some((o, j) => j !== self && Math.abs(o.x - x) < reach && Math.abs(o.y - y) < reach);
  const walkers: { x: number; y: number; angle: number; speed: number }[] = [];
  for (let i = 0; i < count; i++) {
    let x = rng() * maxX;
    let y = rng() * maxY;
    for (let attempt = 0; attempt < 200 && clash(x, y, -1, walkers); attempt++) {
      x = rng() * maxX;
      y = rng() * maxY;
    }
    walkers.push({ x, y, angle: rng() * 2 * Math.PI, speed: 1.5 + rng() * 1.5 });
  }
  const paths: [number, number][][] = walkers.map(() => []);
  for (let t = 0; t < spec.frames; t++) {
    for (const [i, w] of walkers.entries()) paths[i].push([Math.round(w.x), Math.round(w.y)]);
    for (const [i, w] of walkers.entries()) {
      w.angle += (rng() - 0.5) * 0.8;
      w.speed = Math.max(1, Math.min(3.5, w.speed + (rng() - 0.5) * 0.4));
      let x = w.x + Math.cos(w.angle) * w.speed;
      let y = w.y + Math.sin(w.angle) * w.speed;
      if (x < 0 || x > maxX) {
        x = x < 0 ? -x : 2 * maxX - x;
        w.angle = Math.PI - w.angle;
      }
      if (y < 0 || y > maxY) {
        y = y < 0 ? -y : 2 * maxY - y;
        w.angle = -w.angle;
      }
      x = Math.max(0, Math.min(maxX, x));
      y = Math.max(0, Math.min(maxY, y));
      // About to touch another sprite: turn around and wait a frame (unless already touching, in a
      // frame too small for all of them, when it moves on regardless).
      if (clash(x, y, i, walkers) && !clash(w.x, w.y, i, walkers)) {
        w.angle += Math.PI;
        continue;
      }
      w.x = x;
      w.y = y;
    }
  }
  return paths;
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

/** The sprite's mask with its border set: bright (1) for the actor, dark (0) for the others. */
export function withMarker(mask: Uint8Array, size: number, marked: boolean): Uint8Array {
  const out = mask.slice();
  const m = SYNTH_MARKER_WIDTH;
  for (let v = 0; v < size; v++) {
    for (let u = 0; u < size; u++) {
      if (u < m || v < m || u >= size - m || v >= size - m) out[v * size + u] = marked ? 1 : 0;
    }
  }
  return out;
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
  const { classes, label, frames, width, height, actorSize, distractors } = spec;
  const problems: string[] = [];
  if (!Number.isInteger(classes) || classes < 1 || classes > SYNTH_MAX_CLASSES)
    problems.push(`classes ${classes} not in 1..${SYNTH_MAX_CLASSES}`);
  if (!Number.isInteger(label) || label < 0 || label >= Math.min(classes, SYNTH_MAX_CLASSES))
    problems.push(`label ${label} not in 0..${Math.min(classes, SYNTH_MAX_CLASSES) - 1}`);
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

/** Renders one video: frames, the actor's boxes, and every sprite's mask and path. */
export function renderSynthVideo(spec: SynthVideoSpec): RenderedVideo {
  checkSynthVideoSpec(spec);
  const rng = seedrandom(spec.seed);
  const palette = drawPalette(rng);
  const background = drawBackground(rng, spec.width, spec.height);
  const size = spec.actorSize;
  const count = spec.classes + spec.distractors;
  const paths = wanderTogether(rng, spec, count);
  // Sprite 0 is the actor; then the other classes' patterns, then the random-block distractors.
  const order = [
    spec.label,
    ...Array.from({ length: spec.classes }, (_, k) => k).filter((k) => k !== spec.label),
  ];
  let phase = 0;
  let actorInverted = false;
  const sprites: RenderedSprite[] = paths.map((path, i) => {
    const pattern = i < spec.classes ? order[i] : null;
    const spritePhase = Math.floor(rng() * SYNTH_PATTERN_PHASES);
    if (i === 0) phase = spritePhase;
    // Either polarity, at random: the texture energy a pattern gives is the same in both, while the
    // pixels next to the border are not, so the border's colour cannot tell the pattern apart on average.
    const inverted = rng() < 0.5;
    const inner = pattern === null ? distractorMask(rng, size) : classPatternMask(pattern, size, spritePhase);
    if (inverted) for (let j = 0; j < inner.length; j++) inner[j] = inner[j] ? 0 : 1;
    if (i === 0) actorInverted = inverted;
    const marked = i === 0;
    const boxes = path.map(([x, y]): Box => [x, y, size, size]);
    return { pattern, marked, mask: withMarker(inner, size, marked), boxes };
  });
  // The actor is drawn last, on top, in case a frame too small for all sprites makes them overlap.
  sprites.push(sprites.shift() as RenderedSprite);
  const actor = sprites[sprites.length - 1];

  const frames: Uint8Array[] = [];
  for (let t = 0; t < spec.frames; t++) {
    const frame = background.slice();
    for (const s of sprites) paint(frame, spec.width, s.mask, size, [s.boxes[t][0], s.boxes[t][1]], palette);
    frames.push(frame);
  }
  return { frames, boxes: actor.boxes, phase, inverted: actorInverted, palette, sprites };
}
