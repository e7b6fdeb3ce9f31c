/**
 * Inspect results kept in the workspace, keyed by model hash + features hash + settings: `meta.json` with
 * the numbers, `probs.bin` and `alpha.bin` with every clip's per-step arrays (float32, little-endian,
 * clip after clip), so a restarted engine answers a cached inspect by reading three small files. An entry
 * is written into a temp folder and renamed into place: it is complete or absent.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { InspectClip } from './api.ts';

export interface InspectSettingsKey {
  maxlen: number;
  stride: number;
  lastN: number;
}

export interface InspectCacheMeta extends InspectSettingsKey {
  version: 1;
  modelHash: string;
  featuresHash: string;
  classNames: string[];
  multilabel: boolean;
  grid: number;
  locations: number;
  nClasses: number;
  fps: number;
  frames: number;
  backbone: string;
  label: number | number[] | null;
  prediction: number | null;
  scores: number[];
  clips: { start: number; steps: number; prediction: number | null }[];
}

export interface InspectEntry {
  meta: InspectCacheMeta;
  clips: InspectClip[];
}

const VERSION = 1;

/** `source` tells apart what the same rows mean in different places (a dataset video's label, a raw video). */
export function inspectKey(
  modelHash: string,
  featuresHash: string,
  s: InspectSettingsKey,
  source: string,
): string {
  return createHash('sha256')
    .update(`v${VERSION}|${modelHash}|${featuresHash}|${s.maxlen}|${s.stride}|${s.lastN}|${source}`)
    .digest('hex')
    .slice(0, 40);
}

function bytesOf(parts: Float32Array[]): Uint8Array {
  const total = parts.reduce((n, p) => n + p.length, 0);
  const all = new Float32Array(total);
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return new Uint8Array(all.buffer);
}

function floatsOf(bytes: Uint8Array): Float32Array {
  // A fresh aligned copy: Node's file buffers may sit at any offset in a shared pool.
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float32Array(copy.buffer);
}

export class InspectCache {
  constructor(readonly dir: string) {}

  private entryDir(key: string): string {
    return path.join(this.dir, key);
  }

  has(key: string): boolean {
    return existsSync(path.join(this.entryDir(key), 'meta.json'));
  }

  async get(key: string): Promise<InspectEntry | null> {
    const dir = this.entryDir(key);
    if (!this.has(key)) return null;
    try {
      const meta = JSON.parse(await readFile(path.join(dir, 'meta.json'), 'utf8')) as InspectCacheMeta;
      if (meta.version !== VERSION) return null;
      const probs = floatsOf(await readFile(path.join(dir, 'probs.bin')));
      const alpha = floatsOf(await readFile(path.join(dir, 'alpha.bin')));
      let p = 0;
      let a = 0;
      const clips = meta.clips.map((c): InspectClip => {
        const clip = {
          start: c.start,
          steps: c.steps,
          probs: probs.slice(p, p + c.steps * meta.nClasses),
          alpha: alpha.slice(a, a + c.steps * meta.locations),
          prediction: c.prediction,
        };
        p += c.steps * meta.nClasses;
        a += c.steps * meta.locations;
        return clip;
      });
      if (p !== probs.length || a !== alpha.length) return null;
      return { meta, clips };
    } catch {
      // A damaged entry is recomputed.
      return null;
    }
  }

  async put(key: string, entry: InspectEntry): Promise<void> {
    const dir = this.entryDir(key);
    const temp = `${dir}.tmp-${process.pid}-${Date.now()}`;
    await mkdir(temp, { recursive: true });
    try {
      await writeFile(path.join(temp, 'probs.bin'), bytesOf(entry.clips.map((c) => c.probs)));
      await writeFile(path.join(temp, 'alpha.bin'), bytesOf(entry.clips.map((c) => c.alpha)));
      await writeFile(path.join(temp, 'meta.json'), JSON.stringify(entry.meta));
      await rm(dir, { recursive: true, force: true });
      await rename(temp, dir);
    } catch (err) {
      await rm(temp, { recursive: true, force: true });
      throw err;
    }
  }
}
