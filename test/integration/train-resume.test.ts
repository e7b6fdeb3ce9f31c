/**
 * A training run killed mid-epoch and continued with --resume ends exactly where an uninterrupted run with the
 * same seed ends: the kill loses nothing but the epoch in progress.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { REPO_ROOT, runGlimpse, runPython } from '../support/cli.ts';
import { makeSignalDataset, smallTrainArgs } from '../support/signal-dataset.ts';

const tmp = mkdtempSync(join(tmpdir(), 'glimpse-resume-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

function trainArgs(out: string): string[] {
  return smallTrainArgs(tmp, out, 3, 11);
}

function logEntries(path: string): { kind: string; epoch?: number }[] {
  if (!existsSync(path)) return [];
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l));
}

const SAME_PARAMETERS = `
import sys, h5py, numpy as np
a, b = h5py.File(sys.argv[1], 'r'), h5py.File(sys.argv[2], 'r')
names = [k for k in a.keys() if isinstance(a[k], h5py.Dataset)]
assert names and names == [k for k in b.keys() if isinstance(b[k], h5py.Dataset)], 'parameter names differ'
for k in names:
    assert np.array_equal(a[k][()], b[k][()]), k
print(len(names))
`;

test('kill mid-epoch, resume, and end exactly where an uninterrupted run ends', async () => {
  makeSignalDataset(tmp);
  const straight = join(tmp, 'straight.h5');
  const r = runGlimpse(trainArgs(straight));
  assert.equal(r.code, 0, r.stderr);

  const killed = join(tmp, 'killed.h5');
  const log = join(tmp, 'killed.log.jsonl');
  const child = spawn(process.execPath, [`${REPO_ROOT}bin/glimpse.js`, ...trainArgs(killed)], {
    env: { ...process.env, GLIMPSE_BACKEND: 'wasm' },
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  // Wait for the first finished epoch, then for a batch of the second, and kill without warning.
  const deadline = Date.now() + 300_000;
  while (!logEntries(log).some((e) => e.kind === 'batch' && e.epoch === 1)) {
    assert.ok(Date.now() < deadline, 'the run did not reach its second epoch');
    assert.equal(child.exitCode, null, 'the run ended before it could be killed');
    await sleep(100);
  }
  child.kill('SIGKILL');
  await exited;
  assert.equal(logEntries(log).filter((e) => e.kind === 'epoch').length, 1);

  const resumed = runGlimpse([...trainArgs(killed), '--resume']);
  assert.equal(resumed.code, 0, resumed.stderr);
  assert.match(resumed.stderr, /resuming after epoch 1/);
  const count = runPython(SAME_PARAMETERS, [join(tmp, 'straight.resume.h5'), join(tmp, 'killed.resume.h5')]);
  assert.ok(Number(count) > 10);
  runPython(SAME_PARAMETERS, [straight, killed]);
});
