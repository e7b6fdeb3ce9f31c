/**
 * The PyTorch peer of `glimpse bench`: `shared/bench/torch_actrec.py` (the same network in PyTorch on the CPU) run with
 * Debian's python3-torch at the same shape, for a side-by-side figure measured by the same command.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchShape } from '../../model/benchmark.ts';

// The peer is the team's shared benchmark script, kept beside the repository (shared/bench), not copied into it.
export const PEER_SCRIPT = fileURLToPath(new URL('../../../shared/bench/torch_actrec.py', import.meta.url));

/** Debian's interpreter (where python3-torch installs), else whatever python3 is on PATH. */
export function defaultPython(): string {
  return existsSync('/usr/bin/python3') ? '/usr/bin/python3' : 'python3';
}

export interface PeerFigures {
  peer: string;
  torch: string;
  threads: number;
  trainClipsPerS: number;
  trainMsPerBatch: number;
  inferClipsPerS: number;
  inferMsPerBatch: number;
}

export interface PeerRequest {
  python: string;
  shape: BenchShape;
  batch: number;
  iters: number;
  /** torch.set_num_threads; 0 leaves torch's default. */
  threads: number;
}

function peerArgs(r: PeerRequest): string[] {
  const { shape: s } = r;
  const args = [
    PEER_SCRIPT,
    '--batch',
    r.batch,
    '--steps',
    s.steps,
    '--locations',
    s.locations,
    '--ctx',
    s.ctx,
  ];
  args.push('--dim', s.dim, '--classes', s.classes, '--iters', r.iters);
  if (r.threads > 0) args.push('--threads', r.threads);
  return args.map(String);
}

function numberField(o: Record<string, unknown>, key: string): number {
  const v = o[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`${PEER_SCRIPT}: output lacks a numeric ${key}`);
  return v;
}

/** Parses the peer's one JSON line. */
export function parsePeerOutput(stdout: string): PeerFigures {
  const line = stdout.trim().split('\n').pop() ?? '';
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(line) as Record<string, unknown>;
  } catch {
    throw new Error(`${PEER_SCRIPT}: output is not JSON: '${line.slice(0, 120)}'`);
  }
  return {
    peer: String(o.peer ?? 'pytorch-cpu'),
    torch: String(o.torch ?? '?'),
    threads: numberField(o, 'threads'),
    trainClipsPerS: numberField(o, 'train_clips_per_s'),
    trainMsPerBatch: numberField(o, 'train_ms_per_batch'),
    inferClipsPerS: numberField(o, 'infer_clips_per_s'),
    inferMsPerBatch: numberField(o, 'infer_ms_per_batch'),
  };
}

/** Runs the peer once; rejects with a one-line reason (no python, no torch, a crash). */
export function runTorchPeer(request: PeerRequest, signal?: AbortSignal): Promise<PeerFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(request.python, peerArgs(request), { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new Error(`${request.python}: ${err.message.split('\n')[0]}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        const last = stderr.trim().split('\n').pop() ?? '';
        reject(new Error(`${PEER_SCRIPT} exited with ${code}: ${last}`));
        return;
      }
      try {
        resolve(parsePeerOutput(stdout));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      }
    });
  });
}
