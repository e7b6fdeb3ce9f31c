import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  classPatternMask,
  renderSynthVideo,
  SYNTH_MAX_CLASSES,
  SYNTH_PATTERN_PHASES,
  type SynthVideoSpec,
} from './synth-render.ts';

const spec: SynthVideoSpec = {
  seed: 's1',
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

test('the actor box holds the class pattern in the palette colours, inside the frame, and moves', () => {
  const video = renderSynthVideo(spec);
  const mask = classPatternMask(spec.label, spec.actorSize, video.phase);
  assert.equal(video.frames.length, spec.frames);
  for (const [t, [x, y, w, h]] of video.boxes.entries()) {
    assert.ok(x >= 0 && y >= 0 && x + w <= spec.width && y + h <= spec.height, `frame ${t} box outside`);
    assert.equal(w, spec.actorSize);
    for (let v = 0; v < h; v++) {
      for (let u = 0; u < w; u++) {
        const o = ((y + v) * spec.width + x + u) * 3;
        const colour = mask[v * w + u] ? video.palette.bright : video.palette.dark;
        assert.deepEqual([...video.frames[t].subarray(o, o + 3)], colour);
      }
    }
  }
  const [first, last] = [video.boxes[0], video.boxes[video.boxes.length - 1]];
  assert.ok(Math.hypot(last[0] - first[0], last[1] - first[1]) > 5, 'the actor should wander');
});

test('bad specs are refused with one line naming the video', () => {
  assert.throws(
    () => renderSynthVideo({ ...spec, label: SYNTH_MAX_CLASSES }),
    /synthetic video s1: label 8 not in 0\.\.7/,
  );
  assert.throws(() => renderSynthVideo({ ...spec, width: 111 }), /even sides/);
  assert.throws(() => renderSynthVideo({ ...spec, width: 16 }), /larger than the actor/);
});
