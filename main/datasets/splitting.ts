/**
 * Deterministic split helpers shared by the adapters: a seeded shuffle, per-class (stratified)
 * fractions, and hold-outs that take whole groups so that related clips never straddle two splits.
 * Inputs are sorted first, so results depend only on the seed and the names, never on readdir order.
 */
import seedrandom from 'seedrandom';

export type Rng = () => number;

export function makeRng(seed: number | string, purpose: string): Rng {
  return seedrandom(`${purpose}:${seed}`);
}

/** Plain code-unit order: identical on every platform and locale. */
export function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Fisher–Yates on a copy. */
export function shuffled<T>(items: readonly T[], rng: Rng): T[] {
  const out = items.slice();
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

export interface Fractions {
  train: number;
  valid: number;
  test: number;
}

export function checkFractions(fractions: Fractions, where: string): void {
  const { train, valid, test } = fractions;
  const ok = [train, valid, test].every((f) => Number.isFinite(f) && f >= 0 && f <= 1);
  if (!ok || train <= 0 || Math.abs(train + valid + test - 1) > 1e-6) {
    throw new Error(
      `${where}: split fractions must be in [0, 1], train > 0, and sum to 1 (got ${train}/${valid}/${test})`,
    );
  }
}

/**
 * Splits each class's items by the fractions (rounded per class; train keeps at least one item).
 * `classOf` gives the stratum; items keep their sorted order inside each split.
 */
export function stratifiedSplit<T>(
  items: readonly T[],
  keyOf: (item: T) => string,
  classOf: (item: T) => number,
  fractions: Fractions,
  rng: Rng,
): { train: T[]; valid: T[]; test: T[] } {
  const byClass = new Map<number, T[]>();
  for (const item of [...items].sort((a, b) => compareNames(keyOf(a), keyOf(b)))) {
    const c = classOf(item);
    byClass.set(c, [...(byClass.get(c) ?? []), item]);
  }
  const out = { train: [] as T[], valid: [] as T[], test: [] as T[] };
  for (const c of [...byClass.keys()].sort((a, b) => a - b)) {
    const members = shuffled(byClass.get(c) ?? [], rng);
    const n = members.length;
    let nTest = Math.round(n * fractions.test);
    let nValid = Math.round(n * fractions.valid);
    // Train always keeps one; take the shortfall from valid first, then test.
    const excess = nTest + nValid - (n - 1);
    if (excess > 0) {
      const fromValid = Math.min(excess, nValid);
      nValid -= fromValid;
      nTest -= excess - fromValid;
    }
    out.test.push(...members.slice(0, nTest));
    out.valid.push(...members.slice(nTest, nTest + nValid));
    out.train.push(...members.slice(nTest + nValid));
  }
  const order = (list: T[]) => list.sort((a, b) => compareNames(keyOf(a), keyOf(b)));
  return { train: order(out.train), valid: order(out.valid), test: order(out.test) };
}

/**
 * Picks whole groups, in seeded random order, to hold out as close to `fraction` of the items as the
 * group sizes allow. At least one group is taken when fraction > 0, and at least one is always left.
 */
export function pickHoldOutGroups<T>(
  items: readonly T[],
  groupOf: (item: T) => string,
  fraction: number,
  rng: Rng,
): Set<string> {
  const counts = new Map<string, number>();
  for (const item of items) counts.set(groupOf(item), (counts.get(groupOf(item)) ?? 0) + 1);
  const held = new Set<string>();
  if (fraction <= 0 || counts.size < 2) return held;
  const target = fraction * items.length;
  let taken = 0;
  for (const group of shuffled([...counts.keys()].sort(compareNames), rng)) {
    if (held.size === counts.size - 1) break;
    const count = counts.get(group) ?? 0;
    // Take a group while that brings the held-out count closer to the target (always the first one).
    if (held.size > 0 && Math.abs(taken + count - target) > Math.abs(taken - target)) continue;
    held.add(group);
    taken += count;
  }
  return held;
}

/** Splits items into those whose group was held out and the rest, both in their original order. */
export function partitionByGroups<T>(
  items: readonly T[],
  groupOf: (item: T) => string,
  held: ReadonlySet<string>,
): { kept: T[]; held: T[] } {
  return {
    kept: items.filter((item) => !held.has(groupOf(item))),
    held: items.filter((item) => held.has(groupOf(item))),
  };
}
