/**
 * Checkpoint files against the reference fixtures and against Python (numpy, pickle, h5py): reading,
 * round trips, interop both ways, and every kind of bad input.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { readCheckpoint, writeCheckpoint } from '../../model/checkpoint/index.ts';
import { encodeNpz } from '../../model/checkpoint/npz.ts';
import type { Checkpoint } from '../../model/checkpoint/types.ts';
import { parameterSpecs } from '../../model/params.ts';
import type { NamedArrays } from '../../model/tensors.ts';
import { FIXTURES as FIXTURE_ROOT } from '../support/cli.ts';

const FIXTURES = join(FIXTURE_ROOT, 'reference');
const PYTHON = '/usr/bin/python3';
let dir = '';

before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'glimpse-ckpt-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

function python(script: string, ...args: string[]): string {
  return execFileSync(PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
}

/** A fresh copy of a reference fixture (npz + pkl) in the temp dir. */
async function copyFixture(kind: 'single' | 'multilabel', name: string): Promise<string> {
  const target = join(dir, name);
  await fs.copyFile(join(FIXTURES, kind, 'model.npz'), target);
  await fs.copyFile(join(FIXTURES, kind, 'model.npz.pkl'), `${target}.pkl`);
  return target;
}

function assertSameArrays(a: NamedArrays, b: NamedArrays): void {
  assert.deepEqual([...a.keys()], [...b.keys()]);
  for (const [name, x] of a) {
    const y = b.get(name)!;
    assert.deepEqual(y.shape, x.shape, name);
    assert.deepEqual(y.data, x.data, name);
  }
}

/** One-line error naming `file`. */
function namesFile(file: string, pattern?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof Error);
    assert.ok(e.message.startsWith(`${file}`), `"${e.message}" does not start with ${file}`);
    assert.ok(!e.message.includes('\n'), `multi-line error: ${e.message}`);
    if (pattern) assert.match(e.message, pattern);
    return true;
  };
}

const PARAM_SUMMARY = `
import json, sys, numpy as np
z = np.load(sys.argv[1])
print(json.dumps({k: [list(z[k].shape), float(z[k].astype(np.float64).sum()), z[k].ravel()[:3].tolist()] for k in z.files}))
`;

for (const [kind, nActions, multilabel] of [
  ['single', 5, false],
  ['multilabel', 12, true],
] as const) {
  test(`reads the reference ${kind} fixture: options, training keys and every parameter as numpy sees it`, async () => {
    const path = join(FIXTURES, kind, 'model.npz');
    const ckpt = await readCheckpoint(path);
    assert.equal(ckpt.options.ctxDim, 512);
    assert.equal(ckpt.options.dim, 128);
    assert.equal(ckpt.options.dimOut, 128);
    assert.equal(ckpt.options.nActions, nActions);
    assert.equal(ckpt.options.multilabel, multilabel);
    assert.equal(ckpt.options.dropout, 'non-inverted');
    assert.equal(ckpt.options.useDropout, true);
    assert.equal(ckpt.options.locations, 49);
    assert.equal(ckpt.options.attention, 'reference');
    assert.equal(ckpt.options.lstmLayers, 1);
    assert.equal(ckpt.training.dataset, multilabel ? 'h2mAP' : 'ucf11');
    assert.equal(ckpt.training.maxlen, 30);
    assert.equal(ckpt.training.last_n, multilabel ? 16 : 30);
    assert.equal(ckpt.training.ctx_dim, undefined, 'structure keys stay out of training');
    assert.deepEqual(
      [...ckpt.params.keys()],
      parameterSpecs(ckpt.options).map((s) => s.name),
    );
    const numpy = JSON.parse(python(PARAM_SUMMARY, path)) as Record<string, [number[], number, number[]]>;
    for (const [name, p] of ckpt.params) {
      const [shape, sum, first] = numpy[name];
      assert.deepEqual(p.shape, shape, name);
      const ours = p.data.reduce((a, v) => a + v, 0);
      assert.ok(Math.abs(ours - sum) <= 1e-4 * (1 + Math.abs(sum)), `${name}: sum ${ours} vs ${sum}`);
      assert.deepEqual(Array.from(p.data.subarray(0, 3)), first, name);
    }
  });
}

test('reads Fortran-order float64 arrays from a deflated npz (np.savez_compressed)', async () => {
  const source = join(FIXTURES, 'single', 'model.npz');
  const target = join(dir, 'fortran.npz');
  python(
    `
import sys, numpy as np
z = np.load(sys.argv[1])
np.savez_compressed(sys.argv[2], **{k: np.asfortranarray(z[k].astype(np.float64)) for k in z.files})
`,
    source,
    target,
  );
  await fs.copyFile(`${source}.pkl`, `${target}.pkl`);
  const [a, b] = await Promise.all([readCheckpoint(source), readCheckpoint(target)]);
  assertSameArrays(a.params, b.params);
});

function withExtras(ckpt: Checkpoint): Checkpoint {
  return {
    ...ckpt,
    classNames: ckpt.options.multilabel
      ? Array.from({ length: ckpt.options.nActions }, (_, i) => `class ${i} ✓`)
      : ['walk', 'run', 'jump', 'swing', 'dive'],
    training: { ...ckpt.training, seed: 7, lrate: 0.0002 },
    provenance: { dataset: '/data/x', epochs: 3, created: '2024-01-01T00:00:00Z' },
  };
}

test('.h5 round trip keeps arrays, options, metadata and optimiser state; h5py reads it', async () => {
  const ckpt = withExtras(await readCheckpoint(join(FIXTURES, 'multilabel', 'model.npz')));
  const m = new Map(
    [...ckpt.params].map(([k, v]) => [`m/${k}`, { shape: v.shape, data: v.data.map((x) => x * 3) }]),
  );
  ckpt.optimizer = { name: 'adam-reference', step: 1234, slots: m };
  const path = join(dir, 'model.h5');
  await writeCheckpoint(path, ckpt);
  const back = await readCheckpoint(path);
  assert.deepEqual(back.options, ckpt.options);
  assert.deepEqual(back.classNames, ckpt.classNames);
  assert.deepEqual(back.training, ckpt.training);
  assert.deepEqual(back.provenance, ckpt.provenance);
  assertSameArrays(back.params, ckpt.params);
  assert.equal(back.optimizer?.name, 'adam-reference');
  assert.equal(back.optimizer?.step, 1234);
  assertSameArrays(back.optimizer!.slots, m);
  assert.deepEqual(
    (await fs.readdir(dir)).filter((f) => f.includes('.tmp-')),
    [],
  );

  const h5py = JSON.parse(
    python(
      `
import json, sys, h5py
f = h5py.File(sys.argv[1], 'r')
print(json.dumps({
  'datasets': {k: [list(f[k].shape), str(f[k].dtype)] for k in f.keys() if isinstance(f[k], h5py.Dataset)},
  'options': json.loads(f.attrs['options']),
  'format': f.attrs['glimpse_format'],
  'class_names': json.loads(f.attrs['class_names']),
  'optimizer': [f['optimizer'].attrs['name'], int(f['optimizer'].attrs['step']), len(f['optimizer/m'].keys())],
  'first': f['ff_logit_W'][0, :3].tolist(),
}))
`,
      path,
    ),
  ) as {
    datasets: Record<string, [number[], string]>;
    options: unknown;
    format: string;
    class_names: string[];
    optimizer: [string, number, number];
    first: number[];
  };
  assert.equal(h5py.format, 'glimpse-checkpoint/1');
  assert.deepEqual(h5py.options, ckpt.options);
  assert.deepEqual(h5py.class_names, ckpt.classNames);
  assert.deepEqual(h5py.optimizer, ['adam-reference', 1234, ckpt.params.size]);
  assert.deepEqual(Object.keys(h5py.datasets).sort(), [...ckpt.params.keys()].sort());
  for (const [name, p] of ckpt.params) assert.deepEqual(h5py.datasets[name], [p.shape, 'float32'], name);
  assert.deepEqual(h5py.first, Array.from(ckpt.params.get('ff_logit_W')!.data.subarray(0, 3)));
});

for (const kind of ['single', 'multilabel'] as const) {
  test(`.npz export round trip (${kind}): numpy and pickle.load read it like the reference's`, async () => {
    const ckpt = withExtras(await readCheckpoint(join(FIXTURES, kind, 'model.npz')));
    const path = join(dir, `export-${kind}.npz`);
    await writeCheckpoint(path, ckpt);
    const back = await readCheckpoint(path);
    assert.deepEqual(back.options, ckpt.options);
    assert.deepEqual(back.classNames, ckpt.classNames);
    assert.deepEqual(back.provenance, ckpt.provenance);
    for (const [k, v] of Object.entries(ckpt.training)) assert.equal(back.training[k], v, k);
    assertSameArrays(back.params, ckpt.params);

    const py = JSON.parse(
      python(
        `
import json, pickle, sys, numpy as np
z = np.load(sys.argv[1])
with open(sys.argv[1] + '.pkl', 'rb') as f:
    o = pickle.load(f)
print(json.dumps({'files': {k: list(z[k].shape) for k in z.files}, 'dtypes': sorted({str(z[k].dtype) for k in z.files}),
                  'options': o, 'types': {k: type(v).__name__ for k, v in o.items()},
                  'first': z['decoder_Wc_att'].ravel()[:3].tolist()}))
`,
        path,
      ),
    ) as {
      files: Record<string, number[]>;
      dtypes: string[];
      options: Record<string, unknown>;
      types: Record<string, string>;
      first: number[];
    };
    assert.deepEqual(py.dtypes, ['float32']);
    assert.deepEqual(py.files, Object.fromEntries([...ckpt.params].map(([k, v]) => [k, v.shape])));
    assert.deepEqual(py.first, Array.from(ckpt.params.get('decoder_Wc_att')!.data.subarray(0, 3)));
    const o = py.options;
    assert.equal(o.dataset, kind === 'multilabel' ? 'h2mAP' : 'ucf11');
    assert.equal(o.n_actions, ckpt.options.nActions);
    assert.equal(o.ctx_dim, 512);
    assert.equal(o.use_dropout, true);
    assert.equal(o.reload_, false);
    assert.equal(o.dictionary, null);
    assert.equal(o.saveto, `export-${kind}.npz`);
    assert.equal(py.types.temperature_inverse, 'float');
    assert.equal(py.types.decay_c, 'float');
    // Every keyword argument of the reference train() is present.
    for (const key of [
      'dim_out',
      'ctx_dim',
      'dim',
      'n_actions',
      'n_layers_att',
      'n_layers_out',
      'n_layers_init',
      'ctx2out',
      'patience',
      'max_epochs',
      'dispFreq',
      'decay_c',
      'alpha_c',
      'temperature_inverse',
      'lrate',
      'selector',
      'maxlen',
      'optimizer',
      'batch_size',
      'valid_batch_size',
      'saveto',
      'validFreq',
      'saveFreq',
      'dataset',
      'dictionary',
      'use_dropout',
      'reload_',
      'training_stride',
      'testing_stride',
      'last_n',
      'fps',
    ]) {
      assert.ok(key in o, `pickle lacks ${key}`);
    }
    // Glimpse keys appear only when they differ from the reference.
    for (const key of ['locations', 'attention', 'lstm_layers']) assert.ok(!(key in o), key);
  });
}

test('exporting an inverted-dropout model to .npz doubles the weights after dropout', async () => {
  const reference = await readCheckpoint(join(FIXTURES, 'single', 'model.npz'));
  const inverted: Checkpoint = { ...reference, options: { ...reference.options, dropout: 'inverted' } };
  const path = join(dir, 'inverted.npz');
  await writeCheckpoint(path, inverted);
  const back = await readCheckpoint(path);
  assert.equal(back.options.dropout, 'non-inverted');
  for (const [name, p] of reference.params) {
    const factor = name === 'ff_logit_W' || name === 'ff_logit_lstm_W' ? 2 : 1;
    assert.deepEqual(
      back.params.get(name)!.data,
      p.data.map((v) => v * factor),
      name,
    );
  }
});

test('a Python 2 cPickle reads the exported options pickle, when Python 2 is installed', async (t) => {
  const python2 = [process.env.GLIMPSE_PYTHON2 ?? '', '/usr/bin/python2', '/usr/bin/python2.7'].find(
    (p) => p !== '' && existsSync(p),
  );
  if (!python2) {
    t.skip('no Python 2 on this machine');
    return;
  }
  const ckpt = await readCheckpoint(join(FIXTURES, 'multilabel', 'model.npz'));
  const path = join(dir, 'py2.npz');
  await writeCheckpoint(path, ckpt);
  const out = execFileSync(
    python2,
    [
      '-c',
      'import cPickle,sys; o=cPickle.load(open(sys.argv[1])); print o["dataset"], type(o["dataset"]).__name__',
      `${path}.pkl`,
    ],
    { encoding: 'utf8' },
  );
  assert.equal(out.trim(), 'h2mAP str');
});

// ---- bad input ----

test('missing files', async () => {
  for (const name of ['nope.npz', 'nope.h5']) {
    const path = join(dir, name);
    await assert.rejects(readCheckpoint(path), namesFile(path, /: no such file$/));
  }
  const npzOnly = join(dir, 'nopkl.npz');
  await fs.copyFile(join(FIXTURES, 'single', 'model.npz'), npzOnly);
  await assert.rejects(readCheckpoint(npzOnly), namesFile(`${npzOnly}.pkl`, /: no such file$/));
});

test('corrupt and truncated options pickles', async () => {
  const path = await copyFixture('single', 'badpkl.npz');
  const pkl = await fs.readFile(`${path}.pkl`);
  await fs.writeFile(`${path}.pkl`, pkl.subarray(0, pkl.length / 2));
  await assert.rejects(readCheckpoint(path), namesFile(`${path}.pkl`, /corrupt pickle: truncated/));
  await fs.writeFile(`${path}.pkl`, Buffer.from('not a pickle at all'));
  await assert.rejects(readCheckpoint(path), namesFile(`${path}.pkl`, /corrupt pickle/));
});

async function writeBadNpz(name: string, change: (params: NamedArrays) => void): Promise<string> {
  const good = await readCheckpoint(join(FIXTURES, 'single', 'model.npz'));
  const params = new Map(good.params);
  change(params);
  const path = join(dir, name);
  await fs.writeFile(path, encodeNpz(params));
  await fs.copyFile(join(FIXTURES, 'single', 'model.npz.pkl'), `${path}.pkl`);
  return path;
}

test('an npz missing a parameter, or with a wrong shape, names the file and the parameter', async () => {
  const missing = await writeBadNpz('missing.npz', (p) => p.delete('decoder_U_att'));
  await assert.rejects(readCheckpoint(missing), namesFile(missing, /decoder_U_att is missing/));
  const shaped = await writeBadNpz('shape.npz', (p) => {
    const w = p.get('decoder_Wd_att')!;
    p.set('decoder_Wd_att', { shape: [w.shape[1], w.shape[0]], data: w.data });
  });
  await assert.rejects(
    readCheckpoint(shaped),
    namesFile(shaped, /decoder_Wd_att has shape \(512,128\), expected \(128,512\)/),
  );
  const extra = await writeBadNpz('extra.npz', (p) =>
    p.set('decoder_W_att_1', { shape: [512, 512], data: new Float32Array(512 * 512) }),
  );
  await assert.rejects(readCheckpoint(extra), namesFile(extra, /decoder_W_att_1 is not used/));
});

test('ctx_dim that disagrees with the parameters is an error', async () => {
  const path = await copyFixture('single', 'ctxdim.npz');
  python(
    `
import pickle, sys
o = pickle.load(open(sys.argv[1], 'rb'))
o['ctx_dim'] = 1024
pickle.dump(o, open(sys.argv[1], 'wb'), 2)
`,
    `${path}.pkl`,
  );
  await assert.rejects(
    readCheckpoint(path),
    namesFile(path, /ff_state_W has 512 rows but .* says ctx_dim is 1024/),
  );
});

test('a truncated npz and a non-float parameter', async () => {
  const path = await copyFixture('single', 'trunc.npz');
  const bytes = await fs.readFile(path);
  await fs.writeFile(path, bytes.subarray(0, Math.floor(bytes.length * 0.6)));
  await assert.rejects(readCheckpoint(path), namesFile(path, /not a readable \.npz archive/));

  const ints = await copyFixture('single', 'ints.npz');
  python(
    `
import sys, numpy as np
z = dict(np.load(sys.argv[1]))
z['ff_logit_b'] = z['ff_logit_b'].astype(np.int64)
np.savez(sys.argv[1], **z)
`,
    ints,
  );
  await assert.rejects(readCheckpoint(ints), namesFile(ints, /array 'ff_logit_b': unsupported dtype '<i8'/));
});

test('a truncated or foreign .h5', async () => {
  const ckpt = await readCheckpoint(join(FIXTURES, 'single', 'model.npz'));
  const path = join(dir, 'trunc.h5');
  await writeCheckpoint(path, ckpt);
  const bytes = await fs.readFile(path);
  await fs.writeFile(path, bytes.subarray(0, Math.floor(bytes.length / 2)));
  await assert.rejects(readCheckpoint(path), namesFile(path, /not a readable HDF5 file \(truncated file/));
  await fs.writeFile(path, Buffer.from('plain text, not HDF5'));
  await assert.rejects(readCheckpoint(path), namesFile(path, /not a readable HDF5 file/));
  const foreign = join(dir, 'foreign.h5');
  python(`import h5py, sys; h5py.File(sys.argv[1], 'w').create_dataset('features', data=[1.0])`, foreign);
  await assert.rejects(readCheckpoint(foreign), namesFile(foreign, /not a Glimpse checkpoint/));
});

test('failed writes leave no file behind', async () => {
  const ckpt = await readCheckpoint(join(FIXTURES, 'single', 'model.npz'));
  for (const name of ['absent/x.npz', 'absent/x.h5']) {
    const path = join(dir, name);
    await assert.rejects(writeCheckpoint(path, ckpt), namesFile(path, /cannot write/));
  }
  assert.ok(!existsSync(join(dir, 'absent')));
  // The target is a directory: the temp files are written, the rename fails, the temps must go.
  const sub = await fs.mkdtemp(join(dir, 'w-'));
  for (const name of ['taken.npz', 'taken.h5']) {
    await fs.mkdir(join(sub, name));
    await assert.rejects(writeCheckpoint(join(sub, name), ckpt), namesFile(join(sub, name), /cannot write/));
  }
  assert.deepEqual((await fs.readdir(sub)).sort(), ['taken.h5', 'taken.npz']);
  // Invalid parameters are refused before anything is written.
  const broken = { ...ckpt, params: new Map(ckpt.params) };
  broken.params.delete('ff_logit_b');
  const path = join(sub, 'broken.h5');
  await assert.rejects(writeCheckpoint(path, broken), namesFile(path, /ff_logit_b is missing/));
  assert.deepEqual((await fs.readdir(sub)).sort(), ['taken.h5', 'taken.npz']);
});
