import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { attentionOnActor, cellsCoveredByBox, readVideoBoxes } from './attention-boxes.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-boxes-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('cells covered by a box on the K×K grid, l = row·K + col', () => {
  // 112-pixel frame, 7×7 grid: cells of 16 px.
  assert.deepEqual(cellsCoveredByBox([0, 0, 16, 16], 112, 112, 7), [0]);
  // Touching the next cell's edge is not overlapping it.
  assert.deepEqual(cellsCoveredByBox([16, 32, 16, 16], 112, 112, 7), [2 * 7 + 1]);
  assert.deepEqual(cellsCoveredByBox([15, 33, 2, 16], 112, 112, 7), [14, 15, 21, 22]);
  assert.deepEqual(cellsCoveredByBox([100, 100, 20, 20], 112, 112, 7), [48]);
  // A frame of another size: the grid scales with it (the whole frame is resized).
  assert.deepEqual(cellsCoveredByBox([0, 300, 100, 180], 700, 480, 7), [28, 35, 42]);
  assert.deepEqual(cellsCoveredByBox([200, 200, 0, 10], 112, 112, 7), []);
});

test('ratio 1 for uniform attention, L/cells when all mass sits on the box; padded steps use the last frame', async () => {
  mkdirSync(path.join(tmp, 'a'), { recursive: true });
  // Two frames: the actor moves from the top-left cell to the bottom-right one.
  const boxes = {
    width: 112,
    height: 112,
    fps: 30,
    frames: [
      [0, 0, 16, 16],
      [96, 96, 16, 16],
    ],
  };
  writeFileSync(path.join(tmp, 'a', 'v.boxes.json'), JSON.stringify(boxes));
  const uniform = Array.from({ length: 3 }, () => new Array(49).fill(1 / 49));
  const onActor = (cell: number) => Array.from({ length: 49 }, (_, l) => (l === cell ? 1 : 0));
  const opts = { boxesDir: tmp, locations: 49 };

  const u = await attentionOnActor(
    [{ file: 'a/v.mkv', frames: 2, clips: [{ start: 0, alpha: uniform }] }],
    opts,
  );
  assert.ok(Math.abs(u.ratio - 1) < 1e-12);
  assert.equal(u.steps, 3);
  // Steps show frames 0, 1, 1 (padded): perfect attention follows the box.
  const perfect = await attentionOnActor(
    [{ file: 'a/v.mkv', frames: 2, clips: [{ start: 0, alpha: [onActor(0), onActor(48), onActor(48)] }] }],
    opts,
  );
  assert.equal(perfect.massInside, 1);
  assert.ok(Math.abs(perfect.ratio - 49) < 1e-9);
  // Attention that stays on the first cell misses the actor after it moves.
  const stuck = await attentionOnActor(
    [{ file: 'a/v.mkv', frames: 2, clips: [{ start: 1, alpha: [onActor(0), onActor(0)] }] }],
    opts,
  );
  assert.equal(stuck.massInside, 0);
  assert.equal(stuck.ratio, 0);
  // Rows extracted at 15 fps: row 1 shows source frame 2, which does not exist: the last box holds.
  const half = await attentionOnActor(
    [{ file: 'a/v.mkv', frames: 2, clips: [{ start: 0, alpha: [onActor(0), onActor(48)] }] }],
    { ...opts, featureFps: 15 },
  );
  assert.equal(half.massInside, 1);
});

test('a missing or malformed boxes file: one line naming it', async () => {
  await assert.rejects(
    attentionOnActor(
      [{ file: 'b/none.mkv', frames: 1, clips: [{ start: 0, alpha: [new Array(49).fill(0)] }] }],
      {
        boxesDir: tmp,
        locations: 49,
      },
    ),
    { message: `${path.join(tmp, 'b/none.mkv')}: no actor boxes file beside this video` },
  );
  mkdirSync(path.join(tmp, 'c'), { recursive: true });
  const file = path.join(tmp, 'c', 'v.boxes.json');
  writeFileSync(file, '{"width": 10, "height": 10, "frames": [[1, 2, 3]]}');
  await assert.rejects(readVideoBoxes(tmp, 'c/v.avi'), {
    message: `${file}: frame 0: box must be [x, y, w, h]`,
  });
  writeFileSync(file, '{"width": 10,');
  await assert.rejects(readVideoBoxes(tmp, 'c/v.avi'), (err: Error) =>
    err.message.startsWith(`${file}: not valid JSON`),
  );
  await assert.rejects(
    attentionOnActor([], { boxesDir: tmp, locations: 50 }),
    /50 locations do not form a square grid/,
  );
});
