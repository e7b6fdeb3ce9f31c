// The synthetic action set on disk: determinism, layout, boxes against decoded pixels, manifests.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { promisify } from 'node:util';
import { loadDatasetManifest } from '../../main/datasets/kinds.ts';
import { getSplit } from '../../main/datasets/manifest.ts';
import {
  classPatternMask,
  renderSynthVideo,
  SYNTH_MARKER_WIDTH,
  SYNTH_PATTERN_PHASES,
  SYNTH_PATTERNS,
} from '../../main/datasets/synth-render.ts';
import {
  generateSynthDataset,
  readSynthDescription,
  type SynthBoxes,
  synthManifest,
} from '../../main/datasets/synth.ts';
import { locateFfmpeg } from '../../main/media/locate.ts';

const run = promisify(execFile);
const options = { seed: 7, classes: 3, videos: 3, frames: 8, width: 64, height: 48, distractors: 2 };
let tmp = '';
let setA = '';

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'glimpse-synth-'));
  setA = path.join(tmp, 'a');
  await generateSynthDataset(setA, options);
});
after(() => rm(tmp, { recursive: true, force: true }));

async function listAll(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries
    .filter((e) => e.isFile())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)))
    .sort();
}

/** Every frame of a video as raw RGB, decoded by ffmpeg at its own size and frame rate. */
async function decodeAll(file: string, width: number, height: number): Promise<Uint8Array[]> {
  const { ffmpeg } = await locateFfmpeg();
  const args = [
    '-v',
    'error',
    '-i',
    file,
    '-f',
    'rawvideo',
    '-pix_fmt',
    'rgb24',
    '-vsync',
    'passthrough',
    'pipe:1',
  ];
  const { stdout } = await run(ffmpeg, args, { encoding: 'buffer', maxBuffer: 1 << 26 });
  const size = width * height * 3;
  assert.equal(stdout.length % size, 0);
  return Array.from(
    { length: stdout.length / size },
    (_, i) => new Uint8Array(stdout.subarray(i * size, (i + 1) * size)),
  );
}

test('layout: folder per class, one boxes file per video, synth.json describing the set', async () => {
  const d = await readSynthDescription(setA);
  assert.deepEqual(d.classes, ['horizontal', 'vertical', 'diagonal']);
  assert.equal(d.videos.length, 9);
  const files = await listAll(setA);
  assert.equal(files.length, 1 + 9 * 2);
  for (const [label, name] of d.classes.entries()) {
    const inClass = d.videos.filter((v) => v.label === label);
    assert.equal(inClass.length, 3);
    assert.ok(
      inClass.every(
        (v) => v.file.startsWith(`${name}/`) && files.includes(v.file) && files.includes(v.boxes),
      ),
    );
  }
  assert.equal(d.encoder, 'ffv1');
});

test('same seed gives identical bytes, another seed other videos', async () => {
  const setB = path.join(tmp, 'b');
  const setC = path.join(tmp, 'c');
  await generateSynthDataset(setB, options);
  await generateSynthDataset(setC, { ...options, seed: 8, classes: 2, videos: 2 });
  const files = await listAll(setA);
  assert.deepEqual(await listAll(setB), files);
  for (const file of files) {
    assert.ok(
      (await readFile(path.join(setA, file))).equals(await readFile(path.join(setB, file))),
      `${file} differs`,
    );
  }
  const video = 'vertical/vertical_001.mkv';
  assert.ok(!(await readFile(path.join(setA, video))).equals(await readFile(path.join(setC, video))));
});

test('boxes lie in the frame and the decoded pixels inside them carry the class pattern', async () => {
  const d = await readSynthDescription(setA);
  for (const entry of d.videos) {
    const boxes = JSON.parse(await readFile(path.join(setA, entry.boxes), 'utf8')) as SynthBoxes;
    assert.deepEqual([boxes.width, boxes.height, boxes.fps, boxes.label], [64, 48, 30, entry.label]);
    assert.equal(boxes.frames.length, options.frames);
    const frames = await decodeAll(path.join(setA, entry.file), boxes.width, boxes.height);
    assert.equal(frames.length, options.frames);
    for (const [t, [x, y, w, h]] of boxes.frames.entries()) {
      assert.ok(
        x >= 0 && y >= 0 && x + w <= boxes.width && y + h <= boxes.height,
        `${entry.file} frame ${t}`,
      );
      // Lossless: the box holds exactly two colours; its 2-px border is bright (the actor's marker) and
      // the bright pixels inside form the class pattern at some phase.
      const colours = new Set<string>();
      const luma: number[] = [];
      for (let v = 0; v < h; v++) {
        for (let u = 0; u < w; u++) {
          const o = ((y + v) * boxes.width + x + u) * 3;
          const [r, g, b] = frames[t].subarray(o, o + 3);
          colours.add(`${r},${g},${b}`);
          luma.push(r + g + b);
        }
      }
      assert.equal(colours.size, 2, `${entry.file} frame ${t}: box holds ${colours.size} colours`);
      const mid = (Math.min(...luma) + Math.max(...luma)) / 2;
      const mask = luma.map((l) => (l > mid ? 1 : 0));
      const border = (i: number) =>
        Math.min(i % w, Math.floor(i / w), w - 1 - (i % w), h - 1 - Math.floor(i / w)) < SYNTH_MARKER_WIDTH;
      assert.ok(
        mask.every((m, i) => !border(i) || m === 1),
        `${entry.file} frame ${t}: border not bright`,
      );
      const best = { label: -1, match: 0 };
      for (let label = 0; label < SYNTH_PATTERNS.length; label++) {
        for (let phase = 0; phase < SYNTH_PATTERN_PHASES; phase++) {
          const pattern = classPatternMask(label, w, phase);
          const inner = mask.map((m, i) => (border(i) ? -1 : m === pattern[i] ? 1 : 0)).filter((m) => m >= 0);
          const match = inner.filter((m) => m === 1).length / inner.length;
          if (match > best.match) Object.assign(best, { label, match });
        }
      }
      assert.deepEqual(best, { label: entry.label, match: 1 }, `${entry.file} frame ${t}`);
    }
    // And the whole decoded video is the rendered one, pixel for pixel.
    if (entry.file.endsWith('_000.mkv')) {
      const spec = {
        seed: `glimpse-synth:7:${entry.label}:0`,
        classes: 3,
        label: entry.label,
        frames: 8,
        width: 64,
        height: 48,
      };
      const rendered = renderSynthVideo({ ...spec, actorSize: 20, distractors: 2 });
      assert.deepEqual(frames, rendered.frames);
    }
  }
});

test('manifest: stratified 60/20/20 train/valid/test over all videos', async () => {
  const m = await synthManifest(setA);
  assert.equal(m.kind, 'synth');
  const all = m.splits.flatMap((s) => s.videos.map((v) => v.file)).sort();
  assert.deepEqual(all, (await readSynthDescription(setA)).videos.map((v) => v.file).sort());
  for (const label of [0, 1, 2]) {
    assert.equal(getSplit(m, 'test').videos.filter((v) => v.label === label).length, 1);
    assert.equal(getSplit(m, 'valid').videos.filter((v) => v.label === label).length, 1);
  }
  assert.deepEqual(await synthManifest(setA), m);
  assert.deepEqual(await loadDatasetManifest('synth', setA), m);
  await assert.rejects(
    loadDatasetManifest('kinetics', setA),
    /unknown dataset kind 'kinetics' \(use ucf11, hmdb51/,
  );
});

test('regenerating replaces an earlier set; foreign folders and bad options are refused', async () => {
  const dir = path.join(tmp, 'again');
  await generateSynthDataset(dir, { ...options, classes: 3, videos: 1 });
  await generateSynthDataset(dir, { ...options, classes: 2, videos: 1 });
  assert.deepEqual(await readdir(dir), ['horizontal', 'synth.json', 'vertical']);
  assert.equal(
    (await synthManifest(dir)).splits.reduce((n, s) => n + s.videos.length, 0),
    2,
  );

  const foreign = path.join(tmp, 'foreign');
  await mkdir(foreign);
  await writeFile(path.join(foreign, 'thesis.tex'), 'keep me');
  await assert.rejects(
    generateSynthDataset(foreign, options),
    /foreign: folder is not empty and holds no synth\.json/,
  );
  await assert.rejects(generateSynthDataset(path.join(tmp, 'x'), { classes: 9 }), /classes must be 2\.\.8/);
  await assert.rejects(generateSynthDataset(path.join(tmp, 'y'), { width: 63 }), /even sides/);
  await assert.rejects(
    generateSynthDataset(path.join(tmp, 'z'), { frames: 0 }),
    /frames 0 must be a positive integer/,
  );
  await rm(path.join(setA, 'diagonal', 'diagonal_002.mkv'));
  await assert.rejects(synthManifest(setA), /synth\.json: lists 9 videos but the folders hold 8/);
  await assert.rejects(
    synthManifest(path.join(tmp, 'none')),
    /none\/synth\.json: synthetic set description does not exist/,
  );
});
