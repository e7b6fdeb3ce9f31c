import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions } from '../../common/options.ts';
import { initParameters } from '../params.ts';
import { readCheckpoint, writeCheckpoint } from './index.ts';
import { encodeNpy } from './npy.ts';
import { encodePickle, parsePickle, type PickleDict } from './pickle.ts';
import { referenceOptionsDict } from './reference.ts';
import type { Checkpoint } from './types.ts';
import { zipSync } from 'fflate';

let dir = '';
before(async () => {
  dir = await fs.mkdtemp(join(tmpdir(), 'glimpse-ref-'));
});
after(async () => {
  await fs.rm(dir, { recursive: true, force: true });
});

const SMALL: ModelOptions = {
  ...DEFAULT_MODEL_OPTIONS,
  ctxDim: 8,
  dim: 6,
  dimOut: 5,
  nActions: 3,
  locations: 16,
  attention: 'eq4',
  lstmLayers: 2,
  dropout: 'non-inverted',
};

function ckptOf(options: ModelOptions): Checkpoint {
  return {
    options,
    params: initParameters(options, 4),
    classNames: ['a', 'b', 'c'],
    training: { maxlen: 12, optimizer: 'adam-reference', seed: 3 },
    provenance: {},
    featureSpec: null,
  };
}

test('Glimpse extensions survive an npz round trip through keys written only when non-default', async () => {
  const ckpt = ckptOf(SMALL);
  const path = join(dir, 'ext.npz');
  await writeCheckpoint(path, ckpt);
  const dict = parsePickle(await fs.readFile(`${path}.pkl`), 'p') as PickleDict;
  assert.equal(dict.locations, 16);
  assert.equal(dict.attention, 'eq4');
  assert.equal(dict.lstm_layers, 2);
  assert.equal(dict.optimizer, 'adam', 'adam-reference is the reference adam');
  assert.equal(dict.maxlen, 12);
  assert.equal(dict.seed, 3);
  const back = await readCheckpoint(path);
  assert.deepEqual(back.options, SMALL);
  assert.deepEqual(back.classNames, ['a', 'b', 'c']);
  for (const [name, p] of ckpt.params) assert.deepEqual(back.params.get(name)?.data, p.data, name);
});

test('for eq4 attention L follows from decoder_W_loc when the pickle has no locations key', async () => {
  const ckpt = ckptOf(SMALL);
  const path = join(dir, 'noloc.npz');
  await writeCheckpoint(path, ckpt);
  const dict = parsePickle(await fs.readFile(`${path}.pkl`), 'p') as PickleDict;
  delete dict.locations;
  await fs.writeFile(`${path}.pkl`, encodePickle(dict));
  assert.equal((await readCheckpoint(path)).options.locations, 16);
});

test('single-label models never export dataset h2mAP; multi-label ones always do', () => {
  const single = ckptOf({ ...SMALL, multilabel: false });
  single.training.dataset = 'h2mAP';
  assert.equal(referenceOptionsDict(single, 'x.npz').dataset, 'ucf11');
  const multi = ckptOf({ ...SMALL, multilabel: true });
  multi.training.dataset = 'my-set';
  const dict = referenceOptionsDict(multi, 'x.npz');
  assert.equal(dict.dataset, 'h2mAP');
  assert.equal(dict.last_n, 16, 'Hollywood2 script default');
});

test("the reference's final-save extras (history_errs, *_err, pickled zipped_params) are tolerated", async () => {
  const options: ModelOptions = {
    ...DEFAULT_MODEL_OPTIONS,
    ctxDim: 8,
    dim: 6,
    dimOut: 5,
    nActions: 3,
    dropout: 'non-inverted',
  };
  const params = initParameters(options, 2);
  const files: Record<string, Uint8Array> = {};
  for (const [name, p] of params) files[`${name}.npy`] = encodeNpy(p);
  files['history_errs.npy'] = encodeNpy({ shape: [2, 2], data: Float32Array.from([0.5, 0.4, 0.3, 0.2]) });
  files['test_err.npy'] = encodeNpy({ shape: [], data: Float32Array.from([0.25]) });
  // An object array (numpy pickles an OrderedDict here): not a float array, and not a parameter.
  const objectHeader = "{'descr': '|O', 'fortran_order': False, 'shape': (), }";
  files['zipped_params.npy'] = Uint8Array.from([
    0x93,
    0x4e,
    0x55,
    0x4d,
    0x50,
    0x59,
    1,
    0,
    objectHeader.length,
    0,
    ...Buffer.from(objectHeader),
    0x80,
    2,
    0x4e,
    0x2e,
  ]);
  const path = join(dir, 'final.npz');
  await fs.writeFile(path, zipSync(files, { level: 0 }));
  await fs.writeFile(
    `${path}.pkl`,
    encodePickle({
      ctx_dim: 8,
      dim: 6,
      dim_out: 5,
      n_actions: 3,
      use_dropout: true,
      dataset: 'ucf11',
      dictionary: null,
    }),
  );
  const ckpt = await readCheckpoint(path);
  assert.deepEqual(ckpt.provenance.referenceErrors, {
    history_errs: [
      [0.5, Math.fround(0.4)],
      [Math.fround(0.3), Math.fround(0.2)],
    ],
    test_err: 0.25,
  });
  assert.deepEqual(ckpt.training, { dataset: 'ucf11' });
  assert.equal(ckpt.params.size, params.size);
});

test('option values of the wrong type are errors naming the pickle', async () => {
  const ckpt = ckptOf({ ...SMALL, attention: 'reference', lstmLayers: 1, locations: 49 });
  const path = join(dir, 'types.npz');
  await writeCheckpoint(path, ckpt);
  const dict = parsePickle(await fs.readFile(`${path}.pkl`), 'p') as PickleDict;
  await fs.writeFile(`${path}.pkl`, encodePickle({ ...dict, n_layers_att: 'three' }));
  await assert.rejects(readCheckpoint(path), {
    message: `${path}.pkl: option n_layers_att must be an integer, got "three"`,
  });
  await fs.writeFile(`${path}.pkl`, encodePickle([1, 2]));
  await assert.rejects(readCheckpoint(path), {
    message: `${path}.pkl: expected a dict of options, found a list`,
  });
});
