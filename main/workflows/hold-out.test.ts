import assert from 'node:assert/strict';
import { test } from 'node:test';
import { holdOutVideos, ucf11GroupNumber } from './hold-out.ts';

/** Computed with the CLI's hold-out code as it was before it moved here (commit 224006c). */
const EXPECTED_VALID_1234 = [8, 12, 17];

/** UCF-11 names for `actions` × `groups` × `clips`, as `{split}_filename.txt` lists them. */
function ucf11Videos(actions: string[], groups: number, clips: number) {
  const videos: { index: number; file: string }[] = [];
  for (const action of actions)
    for (let g = 1; g <= groups; g++)
      for (let c = 1; c <= clips; c++) {
        const gg = String(g).padStart(2, '0');
        const cc = String(c).padStart(2, '0');
        videos.push({
          index: videos.length,
          file: `${action}/v_${action}_${gg}/v_${action}_${gg}_${cc}.avi`,
        });
      }
  return videos;
}

test('UCF-11 names: whole groups are held out, no group on both sides', () => {
  const videos = ucf11Videos(['basketball', 'biking', 'diving'], 15, 4);
  const groupOf = (i: number) => ucf11GroupNumber(videos[i].file);
  for (const seed of [0, 1, 1234, 99]) {
    const parts = holdOutVideos(videos, seed);
    assert.equal(parts.unit, 'group');
    const trainGroups = new Set(parts.train.map(groupOf));
    const validGroups = new Set(parts.valid.map(groupOf));
    assert.ok(validGroups.size >= 1);
    for (const g of validGroups) assert.ok(!trainGroups.has(g), `seed ${seed}: group ${g} on both sides`);
    assert.equal(parts.train.length + parts.valid.length, videos.length);
    // About 15% of the videos, in whole groups of 12 clips (3 actions × 4 clips).
    assert.ok(parts.valid.length >= 12 && parts.valid.length <= 24, `${parts.valid.length} held out`);
    assert.deepEqual(holdOutVideos(videos, seed), parts, 'same seed, same choice');
  }
});

test('bare UCF-11 file names (no folders) are grouped too', () => {
  const videos = ucf11Videos(['golf'], 10, 3).map((v) => ({ ...v, file: v.file.split('/').pop() ?? '' }));
  const parts = holdOutVideos(videos, 7);
  assert.equal(parts.unit, 'group');
  const trainGroups = new Set(parts.train.map((i) => ucf11GroupNumber(videos[i].file)));
  for (const i of parts.valid) assert.ok(!trainGroups.has(ucf11GroupNumber(videos[i].file)));
});

test('other names: single videos, the same choice as before for the same seed', () => {
  const videos = Array.from({ length: 20 }, (_, i) => ({ index: i, file: `clip_${i}.mp4` }));
  const parts = holdOutVideos(videos, 1234);
  assert.equal(parts.unit, 'video');
  assert.equal(parts.valid.length, 3);
  assert.equal(parts.train.length, 17);
  assert.deepEqual(
    [...parts.train, ...parts.valid].sort((a, b) => a - b),
    videos.map((v) => v.index),
  );
  // The per-video hold-out of the CLI before the move (seedrandom.alea('1234/hold-out') Fisher–Yates).
  assert.deepEqual(parts.valid, EXPECTED_VALID_1234);
});

test('a mix of UCF-11 and other names falls back to single videos', () => {
  const videos = [...ucf11Videos(['diving'], 5, 2), { index: 10, file: 'other.mp4' }];
  assert.equal(holdOutVideos(videos, 3).unit, 'video');
});

test('ucf11GroupNumber reads GG and refuses other names', () => {
  assert.equal(ucf11GroupNumber('biking/v_biking_07/v_biking_07_03.avi'), 7);
  assert.equal(ucf11GroupNumber('v_shooting_25_01.mpg'), 25);
  assert.equal(ucf11GroupNumber('v_shooting_26_01.mpg'), null);
  assert.equal(ucf11GroupNumber('clip_01_02.avi'), null);
});
