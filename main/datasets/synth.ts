/**
 * The synthetic action set: Glimpse's end-to-end test bed and demo. Real, losslessly encoded videos,
 * folder per class (`outDir/<class>/<class>_<NNN>.<ext>`), each with its actor's ground-truth boxes
 * (`<video>.boxes.json`), and `synth.json` describing the set. Same options and seed → identical bytes.
 * See synth-render.ts for what the frames show.
 */
import { mkdir, readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { encodeFrames } from '../media/encode.ts';
import { loadFoldersDataset } from './folders.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { type DatasetManifest } from './manifest.ts';
import { readTextFile } from './scan.ts';
import { type Fractions } from './splitting.ts';
import {
  type Box,
  renderSynthVideo,
  SYNTH_MAX_CLASSES,
  SYNTH_PATTERNS,
  synthSpecProblems,
  type SynthVideoSpec,
} from './synth-render.ts';

export interface SynthOptions {
  seed?: number | string;
  /** Number of classes, 2..8 (one class pattern each). Default 4. */
  classes?: number;
  /** Videos per class. Default 12. */
  videos?: number;
  /** Frames per video. Default 40. */
  frames?: number;
  width?: number;
  height?: number;
  fps?: number;
  /** Sprite side in pixels, 2-px border included: about one to two cells of a 7×7 map at 112 px. Default 20. */
  actorSize?: number;
  /** Extra moving sprites with random block patterns, besides the C class sprites. Default 0. */
  distractors?: number;
  /** Videos encoded at once. Default 2. */
  concurrency?: number;
}

/** Videos are FFV1 (lossless RGB) in Matroska, so decoded colours are exactly the rendered ones. */
export const SYNTH_VIDEO_EXTENSION = '.mkv';

export interface SynthVideoEntry {
  /** Relative to the set's folder. */
  file: string;
  boxes: string;
  label: number;
}

export interface SynthDescription {
  format: 'glimpse-synth';
  version: 1;
  seed: string;
  classes: string[];
  patterns: string[];
  videosPerClass: number;
  frames: number;
  width: number;
  height: number;
  fps: number;
  actorSize: number;
  distractors: number;
  /** The ffmpeg encoder that wrote the videos (ffv1). */
  encoder: string;
  videos: SynthVideoEntry[];
}

/** `<video>.boxes.json`: the actor's box [x, y, w, h] (pixels, top-left origin) in every frame. */
export interface SynthBoxes {
  width: number;
  height: number;
  fps: number;
  frames: Box[];
  label: number;
  class: string;
  /** Phase of the class pattern inside the actor sprite. */
  phase: number;
}

export const SYNTH_DESCRIPTION_FILE = 'synth.json';
export const DEFAULT_SYNTH_FRACTIONS: Fractions = { train: 0.6, valid: 0.2, test: 0.2 };

function resolveOptions(opts: SynthOptions) {
  const o = {
    seed: String(opts.seed ?? 0),
    classes: opts.classes ?? 4,
    videos: opts.videos ?? 12,
    frames: opts.frames ?? 40,
    width: opts.width ?? 112,
    height: opts.height ?? 112,
    fps: opts.fps ?? 30,
    actorSize: opts.actorSize ?? 20,
    distractors: opts.distractors ?? 0,
    concurrency: opts.concurrency ?? 2,
  };
  const problems: string[] = [];
  if (!Number.isInteger(o.classes) || o.classes < 2 || o.classes > SYNTH_MAX_CLASSES) {
    problems.push(`classes must be 2..${SYNTH_MAX_CLASSES} (got ${o.classes})`);
  }
  if (!Number.isInteger(o.videos) || o.videos < 1)
    problems.push(`videos per class must be ≥ 1 (got ${o.videos})`);
  if (!(o.fps > 0 && o.fps <= 240)) problems.push(`fps must be in (0, 240] (got ${o.fps})`);
  if (!Number.isInteger(o.concurrency) || o.concurrency < 1)
    problems.push(`concurrency must be ≥ 1 (got ${o.concurrency})`);
  return { o, problems };
}

/** Runs `work` over items with at most `limit` at once; the first failure rejects. */
async function forEachLimited<T>(
  items: readonly T[],
  limit: number,
  work: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  let failed = false;
  const runners = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (!failed && next < items.length) {
      try {
        await work(items[next++]);
      } catch (err) {
        failed = true; // the other runners stop after their current item
        throw err;
      }
    }
  });
  const results = await Promise.allSettled(runners);
  const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (rejected) throw rejected.reason;
}

/** Refuses a non-empty folder that is not an earlier synthetic set; clears an earlier set's class folders. */
async function prepareOutDir(outDir: string): Promise<void> {
  await mkdir(outDir, { recursive: true });
  const entries = await readdir(outDir);
  if (entries.length === 0) return;
  if (!entries.includes(SYNTH_DESCRIPTION_FILE)) {
    throw new Error(
      `${outDir}: folder is not empty and holds no ${SYNTH_DESCRIPTION_FILE}; choose an empty folder`,
    );
  }
  const previous = await readSynthDescription(outDir);
  await rm(path.join(outDir, SYNTH_DESCRIPTION_FILE));
  for (const name of previous.classes) await rm(path.join(outDir, name), { recursive: true, force: true });
}

/** Generates the set into `outDir` (created if needed) and returns its description. */
export async function generateSynthDataset(
  outDir: string,
  opts: SynthOptions = {},
): Promise<SynthDescription> {
  const absOut = path.resolve(outDir);
  const { o, problems } = resolveOptions(opts);
  if (problems.length) throw new Error(`${absOut}: synthetic set options: ${problems.join('; ')}`);
  const classes = SYNTH_PATTERNS.slice(0, o.classes).map((p) => p.name);

  const specs: (SynthVideoSpec & { file: string; boxes: string })[] = [];
  for (const [label, name] of classes.entries()) {
    for (let i = 0; i < o.videos; i++) {
      const stem = `${name}/${name}_${String(i).padStart(3, '0')}`;
      specs.push({
        seed: `glimpse-synth:${o.seed}:${label}:${i}`,
        classes: o.classes,
        label,
        frames: o.frames,
        width: o.width,
        height: o.height,
        actorSize: o.actorSize,
        distractors: o.distractors,
        file: stem,
        boxes: `${stem}.boxes.json`,
      });
    }
  }
  // Every video shares these pixel options: check them once, before touching the folder.
  const pixelProblems = synthSpecProblems(specs[0]);
  if (pixelProblems.length) throw new Error(`${absOut}: synthetic set options: ${pixelProblems.join('; ')}`);

  await prepareOutDir(absOut);
  for (const name of classes) await mkdir(path.join(absOut, name), { recursive: true });

  const videos: SynthVideoEntry[] = specs.map((s) => ({
    file: s.file + SYNTH_VIDEO_EXTENSION,
    boxes: s.boxes,
    label: s.label,
  }));
  let encoder = '';
  const encodeAll = forEachLimited(specs, o.concurrency, async (spec) => {
    const rendered = renderSynthVideo(spec);
    const size = { width: o.width, height: o.height, fps: o.fps };
    const file = path.join(absOut, spec.file + SYNTH_VIDEO_EXTENSION);
    ({ encoder } = await encodeFrames(file, { ...size, codec: 'ffv1' }, rendered.frames));
    const boxes: SynthBoxes = {
      ...size,
      frames: rendered.boxes,
      label: spec.label,
      class: classes[spec.label],
      phase: rendered.phase,
    };
    await writeFileAtomic(path.join(absOut, spec.boxes), JSON.stringify(boxes) + '\n');
  });
  try {
    await encodeAll;
  } catch (err) {
    // Leave no half set behind (it would have no synth.json and block the next attempt).
    for (const name of classes) await rm(path.join(absOut, name), { recursive: true, force: true });
    throw err;
  }

  const description: SynthDescription = {
    format: 'glimpse-synth',
    version: 1,
    seed: o.seed,
    classes,
    patterns: SYNTH_PATTERNS.slice(0, o.classes).map((p) => p.description),
    videosPerClass: o.videos,
    frames: o.frames,
    width: o.width,
    height: o.height,
    fps: o.fps,
    actorSize: o.actorSize,
    distractors: o.distractors,
    encoder,
    videos,
  };
  // Written last: its presence marks a complete set.
  await writeFileAtomic(
    path.join(absOut, SYNTH_DESCRIPTION_FILE),
    JSON.stringify(description, null, 2) + '\n',
  );
  return description;
}

export async function readSynthDescription(outDir: string): Promise<SynthDescription> {
  const file = path.join(path.resolve(outDir), SYNTH_DESCRIPTION_FILE);
  const text = await readTextFile(file, 'synthetic set description');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${(err as Error).message})`);
  }
  const d = parsed as Partial<SynthDescription> | null;
  if (
    !d ||
    d.format !== 'glimpse-synth' ||
    d.version !== 1 ||
    !Array.isArray(d.classes) ||
    !Array.isArray(d.videos)
  ) {
    throw new Error(`${file}: not a Glimpse synthetic set description (format glimpse-synth, version 1)`);
  }
  return d as SynthDescription;
}

/** Train/valid/test manifests of a generated set: stratified by seed (default: the set's own seed), 60/20/20. */
export async function synthManifest(
  outDir: string,
  opts: { seed?: number | string; fractions?: Fractions } = {},
): Promise<DatasetManifest> {
  const absOut = path.resolve(outDir);
  const description = await readSynthDescription(absOut);
  const fractions = opts.fractions ?? DEFAULT_SYNTH_FRACTIONS;
  const seed = opts.seed ?? description.seed;
  const manifest = await loadFoldersDataset(absOut, { seed, fractions, classes: description.classes });
  const found = manifest.splits.reduce((n, s) => n + s.videos.length, 0);
  const listed = new Set(description.videos.map((v) => v.file));
  const stray = manifest.splits.flatMap((s) => s.videos).find((v) => !listed.has(v.file));
  if (stray || found !== description.videos.length) {
    throw new Error(
      `${path.join(absOut, SYNTH_DESCRIPTION_FILE)}: lists ${description.videos.length} videos but the folders hold ${found}${stray ? ` (e.g. unlisted ${stray.file})` : ''}`,
    );
  }
  return {
    ...manifest,
    kind: 'synth',
    protocol: `synthetic set, stratified ${fractions.train}/${fractions.valid}/${fractions.test} by seed ${seed}`,
  };
}
