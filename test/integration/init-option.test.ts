/**
 * The `init` model option end to end: written into `.h5` options (h5py reads it) and the `.npz.pkl` (Python's
 * pickle reads it), read back from both, 'reference' when a file has none, a clear error for other values; and
 * `glimpse train --init`, whose choice a resumed run keeps; the engine's train run carries it.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { promises as fs, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../../common/options.ts';
import { readCheckpoint, writeCheckpoint } from '../../model/checkpoint/index.ts';
import type { Checkpoint } from '../../model/checkpoint/types.ts';
import { initParameters } from '../../model/params.ts';
import { createEngine } from '../../main/engine/engine.ts';
import { GlimpseError } from '../../main/engine/errors.ts';
import { runGlimpse } from '../support/cli.ts';
import { makeSignalDataset, smallTrainArgs } from '../support/signal-dataset.ts';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'glimpse-init-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function python(script: string, ...args: string[]): string {
  return execFileSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8' });
}

const SMALL: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: 8,
  dim: 6,
  dimOut: 5,
  nActions: 3,
  locations: 16,
};

function ckptOf(options: ModelOptions): Checkpoint {
  return {
    options,
    params: initParameters(options, 5),
    classNames: ['a', 'b', 'c'],
    training: { maxlen: 12 },
    provenance: {},
    featureSpec: null,
  };
}

const H5_OPTIONS = `
import json, sys, h5py
print(json.dumps(json.loads(h5py.File(sys.argv[1], 'r').attrs['options'])))
`;

test('.h5 records init in its options (h5py reads it) and reads it back', async () => {
  for (const init of ['glorot', 'reference'] as const) {
    const ckpt = ckptOf({ ...SMALL, init });
    const path = join(dir, `${init}.h5`);
    await writeCheckpoint(path, ckpt);
    assert.equal((JSON.parse(python(H5_OPTIONS, path)) as { init: string }).init, init);
    const back = await readCheckpoint(path);
    assert.equal(back.options.init, init);
    for (const [name, p] of ckpt.params) assert.deepEqual(back.params.get(name)?.data, p.data, name);
  }
});

test('.h5 without init (written before the option) reads as reference; another value is a one-line error', async () => {
  const path = join(dir, 'edit.h5');
  await writeCheckpoint(path, ckptOf({ ...SMALL, init: 'glorot' }));
  const edit = (value: string) =>
    python(
      `
import json, sys, h5py
with h5py.File(sys.argv[1], 'r+') as f:
    o = json.loads(f.attrs['options'])
    if sys.argv[2] == 'none': del o['init']
    else: o['init'] = sys.argv[2]
    f.attrs['options'] = json.dumps(o)
`,
      path,
      value,
    );
  edit('none');
  assert.equal((await readCheckpoint(path)).options.init, 'reference');
  edit('xavier');
  await assert.rejects(readCheckpoint(path), (e: Error) => {
    assert.equal(e.message, `${path}: options.init must be 'reference' or 'glorot', got "xavier"`);
    return true;
  });
});

const PKL_INIT = `
import pickle, sys
o = pickle.load(open(sys.argv[1], 'rb'))
print(o.get('init', '<absent>'))
`;

test('.npz.pkl carries init only when it is not the reference; both read back', async () => {
  for (const [init, inPickle] of [
    ['glorot', 'glorot'],
    ['reference', '<absent>'],
  ] as const) {
    const path = join(dir, `${init}.npz`);
    await writeCheckpoint(path, ckptOf({ ...SMALL, dropout: 'non-inverted', init }));
    assert.equal(python(PKL_INIT, `${path}.pkl`).trim(), inPickle);
    const back = await readCheckpoint(path);
    assert.equal(back.options.init, init);
    assert.equal(back.training.init, undefined, 'init is model structure, not a training key');
  }
  const bad = join(dir, 'glorot.npz');
  python(
    `
import pickle, sys
o = pickle.load(open(sys.argv[1], 'rb')); o['init'] = 'he'
pickle.dump(o, open(sys.argv[1], 'wb'), protocol=2)
`,
    `${bad}.pkl`,
  );
  await assert.rejects(readCheckpoint(bad), (e: Error) => {
    assert.equal(e.message, `${bad}.pkl: option init must be 'reference' or 'glorot', got 'he'`);
    return true;
  });
});

test('glimpse train --init: a bad value is a one-line usage error before anything is read', () => {
  const out = join(dir, 'never.h5');
  const r = runGlimpse(['train', '--dataset', join(dir, 'absent'), '--out', out, '--init', 'xavier']);
  assert.notEqual(r.code, 0);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0], /--init must be one of reference, glorot, got 'xavier'/);
});

async function signalDataset(): Promise<string> {
  const data = join(dir, 'signal');
  await fs.mkdir(data, { recursive: true });
  makeSignalDataset(data);
  return data;
}

test('glimpse train --init glorot is recorded in the checkpoint and the log; --resume keeps it', async () => {
  const data = await signalDataset();
  const out = join(dir, 'run.h5');
  const first = runGlimpse([...smallTrainArgs(data, out, 1, 2), '--init', 'glorot']);
  assert.equal(first.code, 0, first.stderr);
  assert.equal((JSON.parse(python(H5_OPTIONS, out)) as { init: string }).init, 'glorot');
  const start = JSON.parse(readFileSync(join(dir, 'run.log.jsonl'), 'utf8').split('\n')[0]) as {
    options: ModelOptions;
  };
  assert.equal(start.options.init, 'glorot');

  const resumed = runGlimpse([...smallTrainArgs(data, out, 2, 2), '--resume', '--init', 'reference']);
  assert.equal(resumed.code, 0, resumed.stderr);
  const resumePath = join(dir, 'run.resume.h5');
  assert.equal((await readCheckpoint(resumePath)).options.init, 'glorot');
  assert.equal((await readCheckpoint(out)).options.init, 'glorot');
});

test("the engine's train run takes init from its settings and refuses other values", async () => {
  const data = await signalDataset();
  const engine = await createEngine({
    workspace: join(dir, 'ws'),
    transport: 'browser',
    mediaUrl: (id) => `/media/${id}`,
  });
  try {
    await assert.rejects(engine.startRun({ dataset: data, settings: { init: 'he' } }), (e: unknown) => {
      assert.ok(e instanceof GlimpseError && e.code === 'bad-request', String(e));
      assert.match(e.message, /init must be 'reference' or 'glorot', got he/);
      return true;
    });
    const settings = { maxlen: 8, lastN: 8, trainingStride: 4, validStride: 8, dim: 8, dimOut: 8 };
    const run = await engine.startRun({
      dataset: data,
      settings: { ...settings, batchSize: 32, epochs: 1, init: 'glorot' },
    });
    const deadline = Date.now() + 240_000;
    let done = await engine.getRun(run.id);
    while (['queued', 'running'].includes(done.state) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      done = await engine.getRun(run.id);
    }
    assert.equal(done.state, 'done', JSON.stringify(done.state));
    assert.equal((await readCheckpoint(done.model)).options.init, 'glorot');
  } finally {
    await engine.close();
  }
});
