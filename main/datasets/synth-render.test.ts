import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classPatternMask,
  renderSynthVideo,
  SYNTH_MARKER_WIDTH,
  SYNTH_MAX_CLASSES,
  SYNTH_PATTERN_PHASES,
  type SynthVideoSpec,
} from './synth-render.ts';

const spec: SynthVideoSpec = {
  seed: 's1',
  classes: 5,
  label: 2,
  frames: 12,
  width: 112,
  height: 112,
  actorSize: 20,
  distractors: 3,
};

function agreement(a: Uint8Array, b: Uint8Array): number {
  let same = 0;
  for (let i = 0; i < a.length; i++) same += a[i] === b[i] ? 1 : 0;
  return same / a.length;
}

test('class patterns differ from each other at every phase', () => {
  for (let a = 0; a < SYNTH_MAX_CLASSES; a++) {
    for (let b = a + 1; b < SYNTH_MAX_CLASSES; b++) {
      for (let pa = 0; pa < SYNTH_PATTERN_PHASES; pa++) {
        for (let pb = 0; pb < SYNTH_PATTERN_PHASES; pb++) {
          const match = agreement(classPatternMask(a, 20, pa), classPatternMask(b, 20, pb));
          assert.ok(match < 0.85, `patterns ${a}@${pa} and ${b}@${pb} agree on ${match}`);
        }
      }
    }
  }
});

test('rendering is a pure function of the spec', () => {
  const a = renderSynthVideo(spec);
  const b = renderSynthVideo(spec);
  assert.deepEqual(a.boxes, b.boxes);
  assert.deepEqual(a.frames, b.frames);
  assert.notDeepEqual(renderSynthVideo({ ...spec, seed: 's2' }).frames[0], a.frames[0]);
});

const onBorder = (u: number, v: number, size: number) =>
  Math.min(u, v, size - 1 - u, size - 1 - v) < SYNTH_MARKER_WIDTH;

test('the actor box holds the class pattern inside a bright border, in the palette colours, and moves', () => {
  const video = renderSynthVideo(spec);
  const mask = classPatternMask(spec.label, spec.actorSize, video.phase);
  assert.equal(video.frames.length, spec.frames);
  for (const [t, [x, y, w, h]] of video.boxes.entries()) {
    assert.ok(x >= 0 && y >= 0 && x + w <= spec.width && y + h <= spec.height, `frame ${t} box outside`);
    assert.equal(w, spec.actorSize);
    for (let v = 0; v < h; v++) {
      for (let u = 0; u < w; u++) {
        const o = ((y + v) * spec.width + x + u) * 3;
        // The pattern may be drawn in either polarity; the border is always bright.
        const bright = onBorder(u, v, w) || mask[v * w + u] === (video.inverted ? 0 : 1);
        const colour = bright ? video.palette.bright : video.palette.dark;
        assert.deepEqual([...video.frames[t].subarray(o, o + 3)], colour, `frame ${t} (${u}, ${v})`);
      }
    }
  }
  const [first, last] = [video.boxes[0], video.boxes[video.boxes.length - 1]];
  assert.ok(Math.hypot(last[0] - first[0], last[1] - first[1]) > 5, 'the actor should wander');
});

test('every frame shows each class pattern exactly once, only the actor bright-bordered', () => {
  for (const distractors of [0, 2]) {
    const video = renderSynthVideo({ ...spec, distractors });
    const { sprites } = video;
    const patterns = sprites.map((s) => s.pattern).filter((p) => p !== null);
    assert.deepEqual(patterns.sort(), [0, 1, 2, 3, 4]);
    assert.equal(sprites.length, spec.classes + distractors);
    assert.deepEqual(
      sprites.filter((s) => s.marked).map((s) => s.pattern),
      [spec.label],
    );
    for (let t = 0; t < spec.frames; t++) {
      // Read each sprite back from the pixels it shows (those not covered by a sprite drawn later):
      // its border colour and, inside, which class pattern at which phase it carries.
      const seen = new Map<number, number>();
      for (const [i, sprite] of sprites.entries()) {
        const [x, y, w] = sprite.boxes[t];
        const later = sprites.slice(i + 1).map((s) => s.boxes[t]);
        const visible = (u: number, v: number) =>
          !later.some(([lx, ly, lw, lh]) => x + u >= lx && x + u < lx + lw && y + v >= ly && y + v < ly + lh);
        const read = (u: number, v: number) => {
          const o = ((y + v) * spec.width + x + u) * 3;
          return video.frames[t][o] === video.palette.bright[0] ? 1 : 0;
        };
        const borderValues = new Set<number>();
        const inner: [number, number, number][] = [];
        for (let v = 0; v < w; v++) {
          for (let u = 0; u < w; u++) {
            if (!visible(u, v)) continue;
            if (onBorder(u, v, w)) borderValues.add(read(u, v));
            else inner.push([u, v, read(u, v)]);
          }
        }
        if (borderValues.size) assert.deepEqual([...borderValues], [sprite.marked ? 1 : 0], `frame ${t}`);
        if (inner.length < 40) continue; // mostly hidden: too few pixels to tell the patterns apart
        const matching = [];
        for (let label = 0; label < SYNTH_MAX_CLASSES; label++) {
          for (let phase = 0; phase < SYNTH_PATTERN_PHASES; phase++) {
            const m = classPatternMask(label, w, phase);
            if (inner.every(([u, v, bit]) => m[v * w + u] === bit)) matching.push(label);
          }
        }
        const labels = [...new Set(matching)];
        if (sprite.pattern === null) assert.deepEqual(labels, [], `frame ${t}: distractor shows a class`);
        else if (labels.length === 1) seen.set(labels[0], (seen.get(labels[0]) ?? 0) + 1);
        if (sprite.pattern !== null) assert.ok(labels.includes(sprite.pattern), `frame ${t} sprite ${i}`);
      }
      for (const [label, count] of seen)
        assert.equal(count, 1, `frame ${t}: pattern ${label} shown ${count}×`);
    }
  }
});

test('bad specs are refused with one line naming the video', () => {
  assert.throws(
    () => renderSynthVideo({ ...spec, label: SYNTH_MAX_CLASSES }),
    /synthetic video s1: label 8 not in 0\.\.4/,
  );
  assert.throws(() => renderSynthVideo({ ...spec, classes: 9 }), /classes 9 not in 1\.\.8/);
  assert.throws(() => renderSynthVideo({ ...spec, width: 111 }), /even sides/);
  assert.throws(() => renderSynthVideo({ ...spec, width: 16 }), /larger than the actor/);
});
