/**
 * `dataset.json` (what produced the features and how they are laid out) and `classes.txt`
 * (one class name per line) of a feature dataset directory.
 */
import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FeatureSpec } from '../../common/feature-spec.ts';
import { writeFileAtomic } from '../atomic-file.ts';
import { linesText, readLines } from './text-files.ts';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export interface DatasetInfo {
  /** Backbone and layer that produced the features, e.g. 'googlenet/inception_5b'. */
  backbone: string;
  /** Size in pixels of the frames fed to the backbone. */
  frameSize: { width: number; height: number };
  /** Frames per second of the stored rows. */
  fps: number;
  /** L: grid locations per frame (K·K). */
  locations: number;
  /** D: channels per location. */
  ctxDim: number;
  /** Row layout on disk: element (l, c) at l + L·c. */
  layout: 'channel-major';
  /** Free-form: tool versions, source videos, command line, dates. */
  provenance: { [key: string]: JsonValue };
}

export const DATASET_JSON = 'dataset.json';
export const CLASSES_TXT = 'classes.txt';

/**
 * Reads `dir/dataset.json` if it exists (null otherwise). Checks the fields a reader depends on
 * (locations, ctxDim, layout); the rest is returned as found.
 */
export async function readDatasetInfo(dir: string): Promise<Partial<DatasetInfo> | null> {
  const file = path.join(dir, DATASET_JSON);
  if (!existsSync(file)) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file}: must hold a JSON object`);
  }
  const info = parsed as Partial<DatasetInfo>;
  for (const key of ['locations', 'ctxDim'] as const) {
    const value: unknown = info[key];
    if (value !== undefined && (typeof value !== 'number' || !Number.isInteger(value) || value <= 0)) {
      throw new Error(`${file}: '${key}' must be a positive integer, got ${JSON.stringify(value)}`);
    }
  }
  if (info.layout !== undefined && info.layout !== 'channel-major') {
    throw new Error(`${file}: layout '${String(info.layout)}' is not supported (only 'channel-major')`);
  }
  return info;
}

/**
 * What a checkpoint trained on this data records of it: dataset.json's backbone, frame size and fps with
 * the split's own L and D; null when dataset.json is absent or does not name the backbone and the fps.
 */
export function featureSpecFromInfo(
  info: Partial<DatasetInfo> | null,
  locations: number,
  ctxDim: number,
): FeatureSpec | null {
  if (!info || typeof info.backbone !== 'string' || typeof info.fps !== 'number') return null;
  const size = info.frameSize;
  const frameSize =
    size && Number.isInteger(size.width) && Number.isInteger(size.height)
      ? { width: size.width, height: size.height }
      : null;
  return { backbone: info.backbone, frameSize, fps: info.fps, locations, ctxDim };
}

export async function writeDatasetJson(dir: string, info: DatasetInfo): Promise<void> {
  if (
    !Number.isInteger(info.locations) ||
    info.locations <= 0 ||
    !Number.isInteger(info.ctxDim) ||
    info.ctxDim <= 0
  ) {
    throw new Error(`${path.join(dir, DATASET_JSON)}: locations and ctxDim must be positive integers`);
  }
  await writeFileAtomic(path.join(dir, DATASET_JSON), JSON.stringify(info, null, 2) + '\n');
}

/** Class names from `dir/classes.txt`, or [] when there is none. */
export async function readClasses(dir: string): Promise<string[]> {
  const file = path.join(dir, CLASSES_TXT);
  if (!existsSync(file)) return [];
  const names = (await readLines(file)).map((s) => s.trim());
  const seen = new Set<string>();
  names.forEach((name, i) => {
    if (seen.has(name)) throw new Error(`${file}: line ${i + 1}: class '${name}' appears twice`);
    seen.add(name);
  });
  return names;
}

export async function writeClasses(dir: string, names: readonly string[]): Promise<void> {
  const file = path.join(dir, CLASSES_TXT);
  names.forEach((name, i) => {
    if (name.trim() === '' || /[\r\n]/.test(name))
      throw new Error(`${file}: class ${i} name ${JSON.stringify(name)} is invalid`);
  });
  if (new Set(names).size !== names.length) throw new Error(`${file}: duplicate class names`);
  await writeFileAtomic(file, linesText(names));
}
