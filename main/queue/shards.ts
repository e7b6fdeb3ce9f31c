/**
 * Shard files: what one job made, on the shared output folder. A shard is a payload file (`NAME.bin`)
 * and a sidecar (`NAME.json`) written after it, both atomically; the sidecar records the job it belongs
 * to, the payload's length and sha256, and the job kind's own fields. A shard is used only once its
 * sidecar is there, the payload has that length and hash, and the sidecar matches the job asked for.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../model/atomic-file.ts';

export interface ShardHeader {
  runId: string;
  index: number;
  kind: 'extract' | 'evaluate';
  /** Payload length in bytes and its sha256. */
  bytes: number;
  sha256: string;
  /** The worker (host:pid) that made it, and its tensor backend. */
  worker: string;
  backend: string;
}

export type Shard<M> = { ok: true; meta: M & ShardHeader; payload: Buffer } | { ok: false; problem: string };

export function shardName(kind: ShardHeader['kind'], index: number): string {
  return `${kind}-${String(index).padStart(6, '0')}`;
}

function files(dir: string, name: string): { payload: string; meta: string } {
  return { payload: path.join(dir, `${name}.bin`), meta: path.join(dir, `${name}.json`) };
}

/** Writes the payload, then the sidecar that makes the shard count; returns the sidecar's path. */
export async function writeShard<M extends object>(
  dir: string,
  name: string,
  header: Omit<ShardHeader, 'bytes' | 'sha256'>,
  meta: M,
  payload: Uint8Array,
): Promise<string> {
  const f = files(dir, name);
  await writeFileAtomic(f.payload, payload);
  const sha256 = createHash('sha256').update(payload).digest('hex');
  await writeFileAtomic(
    f.meta,
    JSON.stringify({ ...meta, ...header, bytes: payload.byteLength, sha256 }) + '\n',
  );
  return f.meta;
}

/**
 * Reads and checks a shard: sidecar present and parsable, payload whole (length, sha256), header of this
 * run and job, and `check(meta)` (the kind's own agreement with the job) returning null. A problem is
 * one line naming the file.
 */
export async function readShard<M extends object>(
  dir: string,
  name: string,
  expect: { runId: string; index: number; kind: ShardHeader['kind'] },
  check: (meta: M & ShardHeader) => string | null,
): Promise<Shard<M>> {
  const f = files(dir, name);
  if (!existsSync(f.meta)) return { ok: false, problem: `${f.meta}: missing` };
  let meta: M & ShardHeader;
  try {
    meta = JSON.parse(await readFile(f.meta, 'utf8')) as M & ShardHeader;
  } catch {
    return { ok: false, problem: `${f.meta}: not a shard sidecar (unreadable JSON)` };
  }
  if (meta.runId !== expect.runId || meta.index !== expect.index || meta.kind !== expect.kind) {
    return {
      ok: false,
      problem: `${f.meta}: belongs to ${meta.kind} job ${meta.index} of run ${meta.runId}, not job ${expect.index} of run ${expect.runId}`,
    };
  }
  let payload: Buffer;
  try {
    payload = await readFile(f.payload);
  } catch {
    return { ok: false, problem: `${f.payload}: missing` };
  }
  if (payload.byteLength !== meta.bytes) {
    return {
      ok: false,
      problem: `${f.payload}: truncated or overlong (${payload.byteLength} bytes, its sidecar says ${meta.bytes})`,
    };
  }
  if (createHash('sha256').update(payload).digest('hex') !== meta.sha256) {
    return { ok: false, problem: `${f.payload}: contents do not match the sidecar's sha256` };
  }
  const problem = check(meta);
  return problem ? { ok: false, problem: `${f.meta}: ${problem}` } : { ok: true, meta, payload };
}

/** Removes a shard (a bad one, before its job runs again). */
export async function removeShard(dir: string, name: string): Promise<void> {
  const f = files(dir, name);
  await rm(f.meta, { force: true });
  await rm(f.payload, { force: true });
}
