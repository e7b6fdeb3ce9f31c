/** One entry point for `extract --dataset-kind`: the adapter of each kind, with options of all kinds. */
import { loadFoldersDataset } from './folders.ts';
import { loadHollywood2Dataset } from './hollywood2.ts';
import { loadHmdb51Dataset } from './hmdb51.ts';
import type { DatasetManifest } from './manifest.ts';
import type { Fractions } from './splitting.ts';
import { synthManifest } from './synth.ts';
import { loadUcf11Dataset } from './ucf11.ts';

export const DATASET_KINDS = ['ucf11', 'hmdb51', 'hollywood2', 'folders', 'synth'] as const;
export type DatasetKind = (typeof DATASET_KINDS)[number];

export interface DatasetLoadOptions {
  seed?: number | string;
  /** Share of train held out for validation (ucf11, hmdb51, hollywood2). */
  validFraction?: number;
  /** UCF-11: leave-one-group-out fold 1..25; without it, the fixed split. */
  fold?: number;
  /** HMDB-51: official split 1..3, and where its split files are. */
  split?: number;
  splitsDir?: string;
  /** folders, synth: train/valid/test fractions per class. */
  fractions?: Fractions;
}

export function isDatasetKind(kind: string): kind is DatasetKind {
  return (DATASET_KINDS as readonly string[]).includes(kind);
}

export function loadDatasetManifest(
  kind: string,
  root: string,
  opts: DatasetLoadOptions = {},
): Promise<DatasetManifest> {
  const { seed, validFraction } = opts;
  if (!isDatasetKind(kind)) {
    return Promise.reject(
      new Error(`${root}: unknown dataset kind '${kind}' (use ${DATASET_KINDS.join(', ')})`),
    );
  }
  switch (kind) {
    case 'ucf11':
      return loadUcf11Dataset(root, {
        seed,
        validFraction,
        protocol:
          opts.fold === undefined ? { kind: 'fixed' } : { kind: 'leave-one-group-out', fold: opts.fold },
      });
    case 'hmdb51':
      return loadHmdb51Dataset(root, { seed, validFraction, split: opts.split, splitsDir: opts.splitsDir });
    case 'hollywood2':
      return loadHollywood2Dataset(root, { seed, validFraction });
    case 'folders':
      return loadFoldersDataset(root, { seed, fractions: opts.fractions });
    case 'synth':
      return synthManifest(root, { seed, fractions: opts.fractions });
  }
}
