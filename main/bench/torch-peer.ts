/**
 * The PyTorch peer of `glimpse bench`: `attention_lstm_peer.py` (the same network in PyTorch on the CPU) run with
 * Debian's python3-torch at the same shape, for a side-by-side figure measured by the same command. The peer also
 * reports its sgemm rate and the BLAS torch loaded: a ratio against a peer on a slow BLAS would mean nothing.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { BenchShape } from '../../model/benchmark.ts';

export const PEER_SCRIPT = fileURLToPath(new URL('./attention_lstm_peer.py', import.meta.url));

/**
 * Below this sgemm rate the peer's BLAS is not an optimised one (Debian's reference BLAS does ~6 GFLOP/s, OpenBLAS
 * 150+ per core here): no ratio is reported against it.
 */
export const MIN_PEER_SGEMM_GFLOPS = 40;

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
  /** A 1024² float32 product in the peer's process, at its thread count, GFLOP/s. */
  sgemmGflops: number;
  /** BLAS shared objects mapped into the peer's process. */
  blas: string[];
  /** OPENBLAS_CORETYPE the peer ran with, if any. */
  openblasCoretype: string | null;
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
  args.push('--dim', s.dim, '--dim-out', s.dimOut, '--classes', s.classes, '--iters', r.iters);
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
    sgemmGflops: numberField(o, 'sgemm_gflops'),
    blas: Array.isArray(o.blas) ? o.blas.map(String) : [],
    openblasCoretype: typeof o.openblas_coretype === 'string' ? o.openblas_coretype : null,
  };
}

/** A short name of the BLAS the peer loaded: OpenBLAS (and its threading), MKL, the reference BLAS, or the path. */
export function blasName(p: PeerFigures): string {
  const paths = p.blas.join(' ');
  const core = p.openblasCoretype ? `, core ${p.openblasCoretype}` : '';
  const openblas = /\/(openblas-[a-z]+)\//.exec(paths) ?? /(openblas)/i.exec(paths);
  if (openblas) return `${openblas[1]}${core}`;
  if (/mkl/i.test(paths)) return 'mkl';
  if (/\/blas\/libblas/.test(paths)) return 'reference BLAS';
  return p.blas[0] ?? 'unknown BLAS';
}

/**
 * Why no ratio may be reported against these peer runs, or null when one may: every run must reach
 * MIN_PEER_SGEMM_GFLOPS, so that the ratio is never taken against a crippled run nor against a chosen subset.
 */
export function peerRatioRefusal(peers: PeerFigures[]): string | null {
  if (peers.length === 0) return 'no peer run succeeded';
  const slow = peers.filter((p) => p.sgemmGflops < MIN_PEER_SGEMM_GFLOPS);
  if (slow.length === 0) return null;
  const runs = slow.map(
    (p) => `${p.sgemmGflops.toFixed(1)} GFLOP/s with ${p.threads} thread(s) on ${blasName(p)}`,
  );
  return (
    `no ratio: the peer's sgemm ran at ${runs.join(', ')}, below ${MIN_PEER_SGEMM_GFLOPS} GFLOP/s: its BLAS is ` +
    `not an optimised one (install libopenblas0-pthread; set OPENBLAS_CORETYPE if OpenBLAS misdetects the CPU) ` +
    `or the machine is too loaded to measure`
  );
}

/**
 * The OpenBLAS kernel family the CPU supports, from its flags: OpenBLAS 0.3.21 takes this VM's CPU for a Prescott
 * (SSE3 kernels, ~35 GFLOP/s on one core against ~155 with its SkylakeX kernels), so the peer is told what the CPU
 * can do. Undefined where nothing better than OpenBLAS's own detection is known.
 */
export function openblasCoretypeFor(flags: ReadonlySet<string>): string | undefined {
  if (['avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd'].every((f) => flags.has(f)))
    return 'SkylakeX';
  if (flags.has('avx2') && flags.has('fma')) return 'Haswell';
  return undefined;
}

function cpuFlags(): Set<string> {
  try {
    const line = /^flags\s*:(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    return new Set(line ? line[1].trim().split(/\s+/) : []);
  } catch {
    return new Set();
  }
}

/** The peer's environment: its BLAS held to the thread count asked for, and the core type the CPU supports. */
export function peerEnvironment(threads: number, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...base };
  // torch.set_num_threads does not reach OpenBLAS's own pthreads: without this a "1 thread" peer uses every core.
  if (threads > 0) env.OPENBLAS_NUM_THREADS = env.OMP_NUM_THREADS = String(threads);
  if (!env.OPENBLAS_CORETYPE) {
    const core = openblasCoretypeFor(cpuFlags());
    if (core) env.OPENBLAS_CORETYPE = core;
  }
  return env;
}

/** Runs the peer once; rejects with a one-line reason (no python, no torch, a crash). */
export function runTorchPeer(request: PeerRequest, signal?: AbortSignal): Promise<PeerFigures> {
  return new Promise((resolve, reject) => {
    const child = spawn(request.python, peerArgs(request), {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: peerEnvironment(request.threads),
      signal,
    });
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
