import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeRng, partitionByGroups, pickHoldOutGroups, stratifiedSplit } from './splitting.ts';

const items = Array.from({ length: 30 }, (_, i) => ({
  name: `v${String(i).padStart(2, '0')}`,
  label: i % 3,
}));
const split = (seed: number, fractions = { train: 0.6, valid: 0.2, test: 0.2 }) =>
  stratifiedSplit(
    items,
    (v) => v.name,
    (v) => v.label,
    fractions,
    makeRng(seed, 'test'),
  );

test('stratified split covers every item once, per class, and depends only on the seed', () => {
  const a = split(1);
  const names = [...a.train, ...a.valid, ...a.test].map((v) => v.name).sort();
  assert.deepEqual(
    names,
    items.map((v) => v.name),
  );
  for (const label of [0, 1, 2]) {
    assert.equal(a.train.filter((v) => v.label === label).length, 6);
    assert.equal(a.valid.filter((v) => v.label === label).length, 2);
    assert.equal(a.test.filter((v) => v.label === label).length, 2);
  }
  // Input order does not matter, the seed does.
  const reversed = stratifiedSplit(
    [...items].reverse(),
    (v) => v.name,
    (v) => v.label,
    { train: 0.6, valid: 0.2, test: 0.2 },
    makeRng(1, 'test'),
  );
  assert.deepEqual(reversed, a);
  assert.notDeepEqual(split(2).test, a.test);
});

test('stratified split keeps at least one training item per class', () => {
  const tiny = [
    { name: 'a', label: 0 },
    { name: 'b', label: 0 },
    { name: 'c', label: 1 },
  ];
  const parts = stratifiedSplit(
    tiny,
    (v) => v.name,
    (v) => v.label,
    { train: 0.2, valid: 0.4, test: 0.4 },
    makeRng(0, 'x'),
  );
  assert.equal(parts.train.filter((v) => v.label === 0).length, 1);
  assert.equal(parts.train.filter((v) => v.label === 1).length, 1);
  assert.equal(parts.train.length + parts.valid.length + parts.test.length, 3);
});

test('hold-out takes whole groups close to the fraction and always leaves one', () => {
  const grouped = Array.from({ length: 100 }, (_, i) => ({ group: `g${i % 10}` }));
  const held = pickHoldOutGroups(grouped, (v) => v.group, 0.15, makeRng(3, 'g'));
  assert.ok(held.size === 1 || held.size === 2, `held ${held.size} groups`);
  const parts = partitionByGroups(grouped, (v) => v.group, held);
  assert.equal(parts.held.length, held.size * 10);
  assert.ok(parts.kept.every((v) => !held.has(v.group)));
  assert.equal(pickHoldOutGroups(grouped, (v) => v.group, 0.99, makeRng(3, 'g')).size, 9);
  assert.equal(pickHoldOutGroups(grouped, (v) => v.group, 0, makeRng(3, 'g')).size, 0);
  assert.deepEqual(
    pickHoldOutGroups(grouped, (v) => v.group, 0.3, makeRng(5, 'g')),
    pickHoldOutGroups(grouped, (v) => v.group, 0.3, makeRng(5, 'g')),
  );
});
