import { test } from 'node:test';
import assert from 'node:assert/strict';
import { channelMajorToLocationMajor, locationMajorToChannelMajor } from './layout.ts';

const L = 6;
const D = 5;

/** Location-major frames whose every element says where it belongs: f·1000 + l·10 + c. */
function tagged(frames: number): Float32Array {
  const out = new Float32Array(frames * L * D);
  for (let f = 0; f < frames; f++) {
    for (let l = 0; l < L; l++) for (let c = 0; c < D; c++) out[(f * L + l) * D + c] = f * 1000 + l * 10 + c;
  }
  return out;
}

test('location-major element (l, c) lands at l + L·c of its channel-major row', () => {
  const rows = locationMajorToChannelMajor(tagged(2), L, D);
  for (let f = 0; f < 2; f++) {
    for (let l = 0; l < L; l++) {
      for (let c = 0; c < D; c++) assert.equal(rows[f * L * D + l + L * c], f * 1000 + l * 10 + c);
    }
  }
  // One spot check without the loop's arithmetic: frame 1, location 4, channel 3 at 30 + 4 + 6·3.
  assert.equal(rows[30 + 4 + 18], 1043);
});

test('channel-major to location-major inverts the conversion', () => {
  const frames = tagged(3);
  assert.deepEqual(channelMajorToLocationMajor(locationMajorToChannelMajor(frames, L, D), L, D), frames);
});

test('a length that is not whole frames is refused', () => {
  assert.throws(
    () => channelMajorToLocationMajor(new Float32Array(L * D + 1), L, D),
    /whole number of frames/,
  );
});
