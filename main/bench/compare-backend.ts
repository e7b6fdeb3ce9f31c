/**
 * Our training and inference figures on a second backend, for the bench table: a process has one tfjs backend, so
 * the same `glimpse bench` runs again in a child process with that backend forced (no peer, no extras).
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { BenchShapeName } from '../../model/benchmark.ts';

const GLIMPSE = fileURLToPath(new URL('../../bin/glimpse.js', import.meta.url));

export interface BackendFigures {
  backend: string;
  trainClipsPerS: number;
  inferClipsPerS: number;
}

export interface CompareRequest {
  backend: string;
  shape: BenchShapeName;
  batch: number;
  iters: number;
  workers: number;
}

/** Rejects with a one-line reason where the child fails or prints no figures. */
export function benchOtherBackend(r: CompareRequest, signal?: AbortSignal): Promise<BackendFigures> {
  const args = [GLIMPSE, 'bench', '--backend', r.backend, '--shape', r.shape, '--batch', String(r.batch)];
  args.push('--iters', String(r.iters), '--workers', String(r.workers));
  args.push(
    '--no-peer',
    '--no-extract',
    '--no-evaluate',
    '--no-convergence',
    '--no-queue',
    '--no-compare',
    '--json',
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'], signal });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', (err) => reject(new Error(`bench on ${r.backend}: ${err.message.split('\n')[0]}`)));
    child.on('close', (code) => {
      if (code !== 0) {
        reject(
          new Error(`bench on ${r.backend} exited with ${code}: ${stderr.trim().split('\n').pop() ?? ''}`),
        );
        return;
      }
      const rates = new Map<string, number>();
      for (const line of stdout.trim().split('\n')) {
        try {
          const o = JSON.parse(line) as { name?: unknown; clips_per_s?: unknown };
          if (typeof o.name === 'string' && typeof o.clips_per_s === 'number')
            rates.set(o.name, o.clips_per_s);
        } catch {
          // not a figure line
        }
      }
      const train = rates.get('train');
      const infer = rates.get('infer');
      if (train === undefined || infer === undefined)
        reject(new Error(`bench on ${r.backend} printed no figures`));
      else resolve({ backend: r.backend, trainClipsPerS: train, inferClipsPerS: infer });
    });
  });
}
