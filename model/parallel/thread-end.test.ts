/**
 * Ending threads that may be inside onnxruntime: asked to exit, a thread leaves between two native calls (exit
 * code 0); terminated from outside, the same thread takes the process down. One that never reads its messages is
 * terminated after the grace period.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'node:test';
import { Worker } from 'node:worker_threads';
import { endThread } from './thread-end.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function endThreads(how: 'end' | 'terminate', count: number) {
  return spawnSync(
    process.execPath,
    ['--import', './bin/register.js', 'test/support/end-threads.ts', how, String(count)],
    { cwd: root, encoding: 'utf8', timeout: 120_000 },
  );
}

test('threads busy building onnxruntime sessions end by themselves, and the process lives', () => {
  const run = endThreads('end', 6);
  assert.equal(run.status, 0, run.stderr);
  const codes = run.stdout.trim().split('\n');
  assert.equal(codes.length, 6);
  for (const line of codes) assert.match(line, /exited with code 0$/);
});

test('the same threads terminated from outside abort the process (the hazard endThread avoids)', () => {
  const run = endThreads('terminate', 6);
  assert.equal(run.signal, 'SIGABRT', `status ${run.status}, stderr: ${run.stderr}`);
  assert.match(run.stderr, /Napi::Error/);
});

test('a thread that never reads its messages is terminated after the grace period', async () => {
  const worker = new Worker('for (;;) {}', { eval: true });
  await new Promise((resolve) => worker.once('online', resolve));
  const code = new Promise<number>((resolve) => worker.once('exit', resolve));
  await endThread(worker, 200);
  assert.equal(await code, 1);
});

test('ending a thread that has already exited returns at once', async () => {
  const worker = new Worker('', { eval: true });
  await new Promise((resolve) => worker.once('exit', resolve));
  await endThread(worker, 60_000);
});
