/**
 * UCF-11 ("YouTube Action", Liu, Luo & Shah 2009): `root/<action>/v_<name>_<GG>/v_<name>_<GG>_<CC>.avi`
 * (videos directly in the action folder are accepted too). Clips of one group GG (01..25) share actor
 * and background, so every split here is by group: a clip's group never appears in two splits.
 *
 * Protocols (the dataset has no official train/test split; the paper's own partition is not published):
 * - 'leave-one-group-out', fold k: the test split is group k of every action (Liu et al.'s 25-fold protocol).
 * - 'fixed': groups 16..25 are the test split (10 of 25 groups, about 40% of the clips, close to the
 *   paper's 975/625 ratio), groups 01..15 train and validation. This is Glimpse's convention.
 * Validation: whole groups taken from the training groups by seed, about 15% of the training clips.
 */
import path from 'node:path';
import type { DatasetManifest, ManifestVideo, SplitManifest } from './manifest.ts';
import { isVideoName, listFolder } from './scan.ts';
import { makeRng, partitionByGroups, pickHoldOutGroups } from './splitting.ts';

export const UCF11_CLASSES = [
  'basketball',
  'biking',
  'diving',
  'golf_swing',
  'horse_riding',
  'soccer_juggling',
  'swing',
  'tennis_swing',
  'trampoline_jumping',
  'volleyball_spiking',
  'walking',
] as const;

export const UCF11_GROUPS = 25;
/** Test groups of the 'fixed' protocol. */
export const UCF11_FIXED_TEST_GROUPS: readonly number[] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25];

export type Ucf11Protocol = { kind: 'fixed' } | { kind: 'leave-one-group-out'; fold: number };

export interface Ucf11Options {
  protocol?: Ucf11Protocol;
  /** Share of the training clips held out (by group) for validation. Default 0.15. */
  validFraction?: number;
  seed?: number | string;
}

/** The group of a clip path `<action>/.../v_<name>_<GG>_<CC>.<ext>`: action folder and group number. */
export function ucf11GroupOf(file: string): { action: string; group: number } | null {
  const parts = file.split('/');
  const match = /_(\d{1,2})_(\d+)\.[A-Za-z0-9]+$/.exec(parts[parts.length - 1]);
  if (parts.length < 2 || !match) return null;
  return { action: parts[0], group: Number(match[1]) };
}

function groupKey(file: string): string {
  const g = ucf11GroupOf(file);
  if (!g)
    throw new Error(
      `${file}: cannot tell the UCF-11 group from the name (expected v_<name>_<GG>_<CC>.<ext>)`,
    );
  return `${g.action}/${String(g.group).padStart(2, '0')}`;
}

export interface GroupLeak {
  /** Action folder and group number, e.g. 'biking/07'. */
  group: string;
  /** Each split the group has clips in, with its first such clip. */
  splits: { split: string; file: string }[];
}

/** Every group (action folder + group number) with clips in more than one split. */
export function groupLeaks(splits: DatasetManifest | readonly SplitManifest[]): GroupLeak[] {
  const list = 'splits' in splits ? splits.splits : splits;
  const byGroup = new Map<string, Map<string, string>>();
  for (const split of list) {
    for (const video of split.videos) {
      const key = groupKey(video.file);
      const seen = byGroup.get(key) ?? new Map<string, string>();
      if (!seen.has(split.name)) seen.set(split.name, video.file);
      byGroup.set(key, seen);
    }
  }
  return [...byGroup]
    .filter(([, seen]) => seen.size > 1)
    .map(([group, seen]) => ({ group, splits: [...seen].map(([split, file]) => ({ split, file })) }));
}

/** Throws a one-line error if any group (action folder + group number) has clips in two splits. */
export function checkGroupLeakage(splits: DatasetManifest | readonly SplitManifest[]): void {
  const leak = groupLeaks(splits)[0];
  if (!leak) return;
  const [a, b] = leak.splits;
  throw new Error(
    `UCF-11 group ${leak.group} appears in splits '${a.split}' (${a.file}) and '${b.split}' (${b.file})`,
  );
}

async function listActionVideos(root: string, folder: string): Promise<string[]> {
  const dir = path.join(root, folder);
  const files: string[] = [];
  for (const entry of await listFolder(dir, 'action folder')) {
    if (entry.kind === 'file' && isVideoName(entry.name)) files.push(`${folder}/${entry.name}`);
    if (entry.kind !== 'folder') continue;
    for (const inner of await listFolder(path.join(dir, entry.name), 'group folder')) {
      if (inner.kind === 'file' && isVideoName(inner.name))
        files.push(`${folder}/${entry.name}/${inner.name}`);
    }
  }
  return files;
}

export async function loadUcf11Dataset(root: string, opts: Ucf11Options = {}): Promise<DatasetManifest> {
  const absRoot = path.resolve(root);
  const protocol = opts.protocol ?? { kind: 'fixed' };
  const validFraction = opts.validFraction ?? 0.15;
  const seed = opts.seed ?? 0;
  if (!(validFraction >= 0 && validFraction < 1)) {
    throw new Error(`${absRoot}: UCF-11 validation fraction must be in [0, 1) (got ${validFraction})`);
  }
  if (protocol.kind === 'leave-one-group-out') {
    if (!Number.isInteger(protocol.fold) || protocol.fold < 1 || protocol.fold > UCF11_GROUPS) {
      throw new Error(
        `${absRoot}: UCF-11 leave-one-group-out fold must be 1..${UCF11_GROUPS} (got ${protocol.fold})`,
      );
    }
  }

  // Map action folders onto the canonical classes (folder names are matched case-insensitively).
  const folderOf = new Map<number, string>();
  for (const entry of await listFolder(absRoot, 'UCF-11 folder')) {
    if (entry.kind !== 'folder') continue;
    const label = (UCF11_CLASSES as readonly string[]).indexOf(entry.name.toLowerCase());
    if (label < 0) {
      throw new Error(
        `${path.join(absRoot, entry.name)}: unknown UCF-11 class folder (expected ${UCF11_CLASSES.join(', ')})`,
      );
    }
    if (folderOf.has(label))
      throw new Error(`${path.join(absRoot, entry.name)}: class '${UCF11_CLASSES[label]}' has two folders`);
    folderOf.set(label, entry.name);
  }

  const videos: (ManifestVideo & { group: number })[] = [];
  for (const [label, name] of UCF11_CLASSES.entries()) {
    const folder = folderOf.get(label);
    if (folder === undefined) throw new Error(`${path.join(absRoot, name)}: UCF-11 class folder is missing`);
    const files = await listActionVideos(absRoot, folder);
    if (files.length === 0)
      throw new Error(`${path.join(absRoot, folder)}: UCF-11 class '${name}' has no videos`);
    for (const file of files) {
      const g = ucf11GroupOf(file);
      if (!g || g.group < 1 || g.group > UCF11_GROUPS) {
        throw new Error(
          `${path.join(absRoot, file)}: cannot tell the UCF-11 group 01..25 from the name (expected v_<name>_<GG>_<CC>.<ext>)`,
        );
      }
      videos.push({ file, label, group: g.group });
    }
  }

  const testGroups = protocol.kind === 'fixed' ? UCF11_FIXED_TEST_GROUPS : [protocol.fold];
  const test = videos.filter((v) => testGroups.includes(v.group));
  const trainAll = videos.filter((v) => !testGroups.includes(v.group));
  if (test.length === 0)
    throw new Error(`${absRoot}: no UCF-11 clips in test group(s) ${testGroups.join(', ')}`);
  if (trainAll.length === 0)
    throw new Error(`${absRoot}: no UCF-11 clips outside test group(s) ${testGroups.join(', ')}`);

  // Validation takes whole group numbers (across actions), so valid and train share no group.
  const byNumber = (v: { group: number }) => String(v.group).padStart(2, '0');
  const held = pickHoldOutGroups(trainAll, byNumber, validFraction, makeRng(seed, 'ucf11-valid'));
  const { kept: train, held: valid } = partitionByGroups(trainAll, byNumber, held);

  const strip = (list: typeof videos): ManifestVideo[] => list.map(({ file, label }) => ({ file, label }));
  const manifest: DatasetManifest = {
    kind: 'ucf11',
    root: absRoot,
    classes: [...UCF11_CLASSES],
    multilabel: false,
    splits: [
      { name: 'train', videos: strip(train) },
      { name: 'valid', videos: strip(valid) },
      { name: 'test', videos: strip(test) },
    ],
    protocol:
      (protocol.kind === 'fixed'
        ? `UCF-11 fixed split: test groups ${testGroups[0]}..${testGroups[testGroups.length - 1]}`
        : `UCF-11 leave-one-group-out fold ${protocol.fold}: test group ${protocol.fold}`) +
      `; valid groups ${[...held].sort().join(',') || 'none'} (seed ${seed})`,
  };
  checkGroupLeakage(manifest);
  return manifest;
}
