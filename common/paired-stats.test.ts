// The paired statistics against an independent implementation: McNemar's exact p equals SciPy's
// binomtest(b, b + c, 0.5) two-sided p (Debian python3-scipy), and the paired bootstrap's 95% interval
// covers a known accuracy difference in at least 90% of 200 simulated evaluations (seeded).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { mcnemarExactP, pairedAccuracy, pairedBootstrap, seededRandom } from './paired-stats.ts';

const PYTHON = '/usr/bin/python3';
const TABLES: [number, number][] = [
  [0, 0],
  [0, 1],
  [1, 0],
  [3, 3],
  [5, 1],
  [1, 9],
  [12, 4],
  [40, 25],
  [7, 30],
  [100, 80],
  [513, 470],
  [0, 60],
  [1500, 1620],
];

test("McNemar's exact p equals scipy.stats.binomtest on the discordant pairs", (t) => {
  if (!existsSync(PYTHON)) return t.skip('no /usr/bin/python3');
  const script = [
    'import json, sys',
    'from scipy.stats import binomtest',
    'tables = json.loads(sys.argv[1])',
    'print(json.dumps([1.0 if b + c == 0 else binomtest(b, b + c, 0.5).pvalue for b, c in tables]))',
  ].join('\n');
  const scipy = JSON.parse(
    execFileSync(PYTHON, ['-c', script, JSON.stringify(TABLES)], { encoding: 'utf8' }),
  ) as number[];
  TABLES.forEach(([b, c], i) => {
    const ours = mcnemarExactP(b, c);
    const tolerance = 1e-9 + 1e-7 * scipy[i];
    assert.ok(Math.abs(ours - scipy[i]) <= tolerance, `b=${b} c=${c}: ours ${ours}, SciPy ${scipy[i]}`);
  });
});

test('McNemar refuses counts that are not counts', () => {
  assert.throws(() => mcnemarExactP(-1, 2), /counts ≥ 0/);
  assert.throws(() => mcnemarExactP(1.5, 2), /counts ≥ 0/);
});

/** n videos where A is right with pA and B with pB, correlated through a shared difficulty draw. */
function simulate(random: () => number, n: number, pA: number, pB: number): [boolean[], boolean[]] {
  const a: boolean[] = [];
  const b: boolean[] = [];
  for (let i = 0; i < n; i++) {
    const shared = random();
    // With probability 0.5 both models see the same uniform (positive correlation), else independent ones.
    const u = random() < 0.5 ? shared : random();
    const v = random() < 0.5 ? shared : random();
    a.push(u < pA);
    b.push(v < pB);
  }
  return [a, b];
}

test('the paired bootstrap 95% interval covers a known difference in ≥ 90% of 200 simulated runs', () => {
  const random = seededRandom(2024);
  const pA = 0.72;
  const pB = 0.64;
  let covered = 0;
  for (let run = 0; run < 200; run++) {
    const [a, b] = simulate(random, 250, pA, pB);
    const { interval } = pairedAccuracy(a, b, { resamples: 400, seed: run + 1 });
    if (interval.low <= pA - pB && pA - pB <= interval.high) covered++;
  }
  assert.ok(covered >= 180, `covered ${covered} of 200`);
  // And it is an interval, not everything: on a large sample it is narrow and excludes zero.
  const [a, b] = simulate(seededRandom(7), 4000, pA, pB);
  const big = pairedAccuracy(a, b, { resamples: 400 });
  assert.ok(big.interval.low > 0, `low ${big.interval.low}`);
  assert.ok(big.interval.high - big.interval.low < 0.05);
});

test('the bootstrap is seeded: the same seed gives the same interval, another seed another one', () => {
  const [a, b] = simulate(seededRandom(3), 120, 0.7, 0.6);
  const one = pairedAccuracy(a, b, { seed: 5 });
  assert.deepEqual(pairedAccuracy(a, b, { seed: 5 }).interval, one.interval);
  assert.notDeepEqual(pairedAccuracy(a, b, { seed: 6 }).interval, one.interval);
});

test('paired counts, accuracies and the difference add up', () => {
  const a = [true, true, false, false, true, false];
  const b = [true, false, true, false, false, false];
  const r = pairedAccuracy(a, b, { resamples: 200 });
  assert.deepEqual([r.bothRight, r.onlyA, r.onlyB, r.bothWrong], [1, 2, 1, 2]);
  assert.equal(r.accuracyA, 3 / 6);
  assert.equal(r.accuracyB, 2 / 6);
  assert.equal(r.difference, 1 / 6);
  assert.equal(r.interval.estimate, 1 / 6);
  assert.equal(r.mcnemarP, mcnemarExactP(2, 1));
  assert.ok(r.interval.low <= r.difference && r.difference <= r.interval.high);
  assert.throws(() => pairedAccuracy([true], [true, false]), /same videos/);
});

test('a statistic of identical models has a zero-width interval at zero', () => {
  const same = [true, false, true, true];
  const r = pairedBootstrap(4, () => 0);
  assert.deepEqual([r.low, r.high, r.estimate], [0, 0, 0]);
  assert.equal(pairedAccuracy(same, same).mcnemarP, 1);
});
