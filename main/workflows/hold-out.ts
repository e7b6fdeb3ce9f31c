/**
 * The validation hold-out taken from the training split when a dataset has no validation split. UCF-11
 * clips of one group share actor and background, so UCF-11 data gives up whole groups (as the UCF-11
 * adapter does); other data gives up single videos.
 */
import seedrandom from 'seedrandom';
import { makeRng, partitionByGroups, pickHoldOutGroups, shuffled } from '../datasets/splitting.ts';
import { UCF11_GROUPS } from '../datasets/ucf11.ts';

/** Share of training videos held out for validation. */
export const HOLD_OUT_FRACTION = 0.15;

export interface HoldOut {
  train: number[];
  valid: number[];
  /** 'group': whole UCF-11 groups were held out; 'video': single videos. */
  unit: 'group' | 'video';
}

/** The UCF-11 group number (01..25) of `…/v_<name>_<GG>_<CC>[.ext]`, or null for any other name. */
export function ucf11GroupNumber(file: string): number | null {
  const base = file.split(/[\\/]/).pop() ?? '';
  const match = /^v_.+_(\d{1,2})_(\d+)(?:\.[A-Za-z0-9]+)?$/.exec(base);
  if (!match) return null;
  const group = Number(match[1]);
  return group >= 1 && group <= UCF11_GROUPS ? group : null;
}

/** Indices of videos (by `index`), split into train and validation; same seed → same choice. */
export function holdOutVideos(
  videos: readonly { index: number; file: string }[],
  seed: number,
  fraction = HOLD_OUT_FRACTION,
): HoldOut {
  const byIndex = (a: number, b: number) => a - b;
  const groups = videos.map((v) => ucf11GroupNumber(v.file));
  if (videos.length > 0 && groups.every((g) => g !== null)) {
    // Group numbers across actions, as the UCF-11 adapter: a number is never on both sides.
    const groupOf = (i: number) => String(groups[i]).padStart(2, '0');
    const positions = videos.map((_, i) => i);
    const held = pickHoldOutGroups(positions, groupOf, fraction, makeRng(seed, 'hold-out'));
    const parts = partitionByGroups(positions, groupOf, held);
    if (parts.held.length > 0) {
      return {
        train: parts.kept.map((i) => videos[i].index).sort(byIndex),
        valid: parts.held.map((i) => videos[i].index).sort(byIndex),
        unit: 'group',
      };
    }
    // A single group cannot be split by group: fall back to single videos.
  }
  const indices = shuffled(
    videos.map((v) => v.index),
    seedrandom.alea(`${seed}/hold-out`),
  );
  const nValid = Math.max(1, Math.round(indices.length * fraction));
  return {
    valid: indices.slice(0, nValid).sort(byIndex),
    train: indices.slice(nValid).sort(byIndex),
    unit: 'video',
  };
}
