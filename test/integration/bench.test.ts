/** `glimpse bench` end to end at the small shape: the JSON contract, the worker pool, and the PyTorch peer. */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { runGlimpse } from '../support/cli.ts';

interface BenchLine {
  name: string;
  backend: string;
  workers: number;
  shape: Record<string, number>;
  clips_per_s: number;
  ms_per_batch: number;
  times_ms: number[];
  peer:
    { threads: number; clips_per_s?: number; sgemm_gflops?: number; blas?: string; error?: string }[] | null;
  ratio: number | null;
  ratio_refused: string | null;
  gflops_per_s: number;
  sgemm_peak_gflops: number | null;
}

function parseLines(stdout: string): BenchLine[] {
  return stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as BenchLine);
}

const torchAvailable =
  spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' }).status === 0;

test('bench --json prints a train and an infer line with positive rates (pool of two, no peer)', () => {
  const r = runGlimpse([
    'bench',
    '--shape',
    'small',
    '--batch',
    '4',
    '--iters',
    '2',
    '--workers',
    '2',
    '--no-peer',
    '--no-extract',
    '--no-evaluate',
    '--no-convergence',
    '--no-queue',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = parseLines(r.stdout);
  assert.deepEqual(
    lines.map((l) => l.name),
    ['train', 'infer'],
  );
  for (const l of lines) {
    assert.equal(l.backend, 'wasm');
    assert.equal(l.workers, 2);
    assert.deepEqual(l.shape, {
      steps: 8,
      batch: 4,
      locations: 16,
      ctx: 64,
      dim: 32,
      dim_out: 32,
      classes: 5,
    });
    assert.equal(l.times_ms.length, 2);
    assert.ok(l.clips_per_s > 0 && Number.isFinite(l.clips_per_s));
    assert.ok(Math.abs(l.clips_per_s - 4000 / l.ms_per_batch) < 0.01 * l.clips_per_s);
    assert.equal(l.peer, null);
    assert.equal(l.ratio, null);
  }
});

test('bench --json adds the extraction line: end to end and decoding alone, with their ratio', () => {
  const r = runGlimpse([
    'bench',
    '--shape',
    'small',
    '--batch',
    '2',
    '--iters',
    '1',
    '--no-peer',
    '--no-evaluate',
    '--no-convergence',
    '--no-queue',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => l.name),
    ['train', 'infer', 'extract'],
  );
  const e = lines[2] as { frames_per_s: number; decode_frames_per_s: number; decode_to_end_ratio: number };
  assert.ok(e.frames_per_s > 0 && e.decode_frames_per_s > 0);
  assert.ok(
    Math.abs(e.decode_to_end_ratio - e.decode_frames_per_s / e.frames_per_s) < 0.01 * e.decode_to_end_ratio,
  );
});

test('bench on onnx adds our wasm figures (child process) and evaluation in one thread and on the pool', () => {
  const r = runGlimpse([
    'bench',
    '--backend',
    'onnx',
    '--shape',
    'small',
    '--batch',
    '4',
    '--iters',
    '1',
    '--workers',
    '2',
    '--no-peer',
    '--no-extract',
    '--no-convergence',
    '--no-queue',
    '--json',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  assert.deepEqual(
    lines.map((l) => [l.name, l.workers]),
    [
      ['train', 2],
      ['infer', 2],
      ['evaluate', 1],
      ['evaluate', 2],
    ],
  );
  for (const l of lines.slice(0, 2)) {
    assert.equal(l.backend, 'onnx');
    const compared = l.compared as { backend: string; clips_per_s: number | null; error: string | null };
    assert.equal(compared.backend, 'wasm');
    assert.equal(compared.error, null);
    assert.ok((compared.clips_per_s ?? 0) > 0);
  }
  const [one, pool] = lines.slice(2) as { clips: number; clips_per_s: number; vs_one_thread: number }[];
  // Two videos of T + batch − 1 frames at stride 1: batch clips each.
  assert.equal(one.clips, 8);
  assert.equal(pool.clips, 8);
  assert.ok(one.clips_per_s > 0 && pool.clips_per_s > 0);
  assert.equal(one.vs_one_thread, 1);
  assert.ok(Math.abs(pool.vs_one_thread - pool.clips_per_s / one.clips_per_s) < 0.01 * pool.vs_one_thread);
});

test('bench rejects bad flags with a usage error', () => {
  const r = runGlimpse(['bench', '--shape', 'huge']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--shape must be one of ucf11, small/);
  const t = runGlimpse(['bench', '--peer-threads', '1,x']);
  assert.equal(t.code, 2);
  assert.match(t.stderr, /--peer-threads/);
  const c = runGlimpse(['bench', '--compare', 'tpu']);
  assert.notEqual(c.code, 0);
  assert.match(c.stderr, /--compare: unknown backend 'tpu'/);
});

test(
  'bench runs the PyTorch peer beside ours with its sgemm rate and BLAS, and reports the ratio only above the floor',
  { skip: torchAvailable ? false : 'no python3-torch' },
  () => {
    const r = runGlimpse([
      'bench',
      '--shape',
      'small',
      '--batch',
      '2',
      '--iters',
      '1',
      '--workers',
      '1',
      '--peer-threads',
      '1',
      '--no-extract',
      '--no-evaluate',
      '--no-convergence',
      '--no-queue',
      '--json',
    ]);
    assert.equal(r.code, 0, r.stderr);
    for (const l of parseLines(r.stdout)) {
      assert.ok(l.peer && l.peer.length === 1, JSON.stringify(l.peer));
      const [peer] = l.peer;
      assert.equal(peer.threads, 1);
      assert.ok((peer.clips_per_s ?? 0) > 0, JSON.stringify(peer));
      const sgemm = peer.sgemm_gflops ?? 0;
      assert.ok(sgemm > 0, JSON.stringify(peer));
      assert.equal(l.sgemm_peak_gflops, sgemm);
      assert.ok(l.gflops_per_s > 0);
      assert.ok(peer.blas && peer.blas.length > 0);
      if (sgemm >= 40) {
        assert.equal(l.ratio_refused, null);
        assert.ok(
          l.ratio !== null && Math.abs(l.ratio - l.clips_per_s / (peer.clips_per_s ?? 1)) < 0.01 * l.ratio,
        );
      } else {
        assert.equal(l.ratio, null);
        assert.match(l.ratio_refused ?? '', /^no ratio: the peer's sgemm ran at/);
      }
    }
  },
);

test('a missing interpreter leaves our figures and names the peer problem', () => {
  const r = runGlimpse([
    'bench',
    '--shape',
    'small',
    '--batch',
    '2',
    '--iters',
    '1',
    '--workers',
    '1',
    '--peer-threads',
    '1',
    '--python',
    '/nonexistent/python3',
    '--no-evaluate',
    '--no-convergence',
    '--no-queue',
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^train\s+\d/m);
  assert.match(r.stdout, /peer \(1 threads\) unavailable: \/nonexistent\/python3: .*ENOENT/);
});
