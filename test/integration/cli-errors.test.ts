/**
 * Bad input through the real CLI: one line on stderr naming the file and the problem, a non-zero exit,
 * no stack trace, and no output file left behind.
 */
import assert from 'node:assert/strict';
import {
  copyFileSync,
  cpSync,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { FIXTURES, runGlimpse, runPython } from '../support/cli.ts';

const SINGLE = join(FIXTURES, 'reference', 'single');
const root = mkdtempSync(join(tmpdir(), 'glimpse-cli-errors-'));
after(() => rmSync(root, { recursive: true, force: true }));

let counter = 0;
/** A private copy of the single-label fixture to damage. */
function fixtureCopy(): string {
  const dir = join(root, `case-${counter++}`);
  cpSync(SINGLE, dir, { recursive: true });
  for (const f of readdirSync(dir)) writeFileSync(join(dir, f), readFileSync(join(dir, f))); // drop read-only modes
  return dir;
}

function expectOneLineError(args: string[], mentions: RegExp[], outFile: string): void {
  const r = runGlimpse(args);
  assert.notEqual(r.code, 0, `expected failure, got success: ${r.stdout}`);
  const lines = r.stderr.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('backend:'));
  assert.equal(lines.length, 1, `expected one error line, got:\n${r.stderr}`);
  assert.doesNotMatch(lines[0], /\bat .+:\d+:\d+/, 'no stack trace');
  for (const m of mentions) assert.match(lines[0], m);
  assert.equal(existsSync(outFile), false, 'no output file');
  const parent = join(outFile, '..');
  if (existsSync(parent)) {
    assert.deepEqual(
      readdirSync(parent).filter((f) => f.includes('.tmp-')),
      [],
      'no temp file left',
    );
  }
}

function predictArgs(dir: string, model = join(dir, 'model.npz')): { args: string[]; out: string } {
  const out = join(dir, 'out', 'results.json');
  return { args: ['predict', '--model', model, '--dataset', dir, '--split', 'test', '--out', out], out };
}

function prepareOut(dir: string): void {
  runPython('import os, sys; os.makedirs(sys.argv[1], exist_ok=True)', [join(dir, 'out')]);
}

test('a missing model file', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  const { args, out } = predictArgs(dir, join(dir, 'nope.npz'));
  expectOneLineError(args, [/nope\.npz/], out);
});

test('a missing features file', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  rmSync(join(dir, 'test_features.h5'));
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/test_features\.h5/], out);
});

test('a truncated HDF5 file', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  truncateSync(join(dir, 'test_features.h5'), 4096);
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/test_features\.h5/], out);
});

test('an HDF5 file without a features dataset', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  runPython(
    "import h5py, numpy as np, sys\nwith h5py.File(sys.argv[1], 'w') as f: f['feats'] = np.zeros((76, 25088), 'f4')",
    [join(dir, 'test_features.h5')],
  );
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/test_features\.h5/, /features/], out);
});

test('a row width that is not L·D for the model', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  runPython(
    "import h5py, numpy as np, sys\nwith h5py.File(sys.argv[1], 'w') as f: f['features'] = np.zeros((76, 49 * 256), 'f4')",
    [join(dir, 'test_features.h5')],
  );
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/test_features\.h5/, /12544|width|L·D|49/], out);
});

test('frame counts that do not add up to the rows', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  writeFileSync(join(dir, 'test_framenum.txt'), '30\n34\n13\n');
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/test_framenum\.txt|test_features\.h5/, /77|76/], out);
});

test('a label count that does not match the videos', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  writeFileSync(join(dir, 'test_labels.txt'), '4\n0\n');
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/test_labels\.txt/], out);
});

test('a label out of range', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  writeFileSync(join(dir, 'test_labels.txt'), '4\n0\n7\n');
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/test_labels\.txt/, /7/], out);
});

test('an .npz missing a parameter', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  runPython(
    "import numpy as np, sys\nz = dict(np.load(sys.argv[1]))\ndel z['decoder_U_att']\nnp.savez(sys.argv[1], **z)",
    [join(dir, 'model.npz')],
  );
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/model\.npz/, /decoder_U_att/], out);
});

test('an .npz parameter with a wrong shape', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  runPython(
    "import numpy as np, sys\nz = dict(np.load(sys.argv[1]))\nz['decoder_Wd_att'] = np.zeros((3, 3), 'f4')\nnp.savez(sys.argv[1], **z)",
    [join(dir, 'model.npz')],
  );
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/model\.npz/, /decoder_Wd_att/], out);
});

test('a corrupt .pkl', () => {
  const dir = fixtureCopy();
  prepareOut(dir);
  const pkl = join(dir, 'model.npz.pkl');
  writeFileSync(pkl, readFileSync(pkl).subarray(0, 40));
  const { args, out } = predictArgs(dir);
  expectOneLineError(args, [/model\.npz\.pkl/], out);
});

test('export into a folder that does not exist leaves nothing', () => {
  const dir = fixtureCopy();
  const out = join(dir, 'missing', 'm.npz');
  expectOneLineError(
    ['export', '--model', join(dir, 'model.npz'), '--format', 'npz', '--out', out],
    [/m\.npz|missing/],
    out,
  );
});

test('train on a dataset with a corrupt labels file writes no model', () => {
  const dir = fixtureCopy();
  copyFileSync(join(dir, 'test_features.h5'), join(dir, 'train_features.h5'));
  copyFileSync(join(dir, 'test_framenum.txt'), join(dir, 'train_framenum.txt'));
  writeFileSync(join(dir, 'train_labels.txt'), '4\nx\n1\n');
  const out = join(dir, 'model.h5');
  expectOneLineError(['train', '--dataset', dir, '--out', out, '--epochs', '1'], [/train_labels\.txt/], out);
});

test('unknown flags and missing required flags are usage errors', () => {
  const r = runGlimpse(['predict', '--bogus']);
  assert.equal(r.code, 2);
  assert.match(r.stderr, /bogus/);
  const r2 = runGlimpse(['evaluate']);
  assert.equal(r2.code, 2);
  assert.match(r2.stderr, /--model is required/);
});

test('every command has --help', () => {
  for (const command of ['predict', 'evaluate', 'train', 'export']) {
    const r = runGlimpse([command, '--help']);
    assert.equal(r.code, 0, command);
    assert.match(r.stdout, new RegExp(`glimpse ${command}`));
  }
});

test('--backend and GLIMPSE_BACKEND force the backend, which is printed; an unknown one is refused', () => {
  const dir = fixtureCopy();
  const out = join(dir, 'results.json');
  const args = [
    'predict',
    '--model',
    join(dir, 'model.npz'),
    '--dataset',
    dir,
    '--split',
    'test',
    '--stride',
    '30',
    '--out',
    out,
  ];
  const forced = runGlimpse([...args, '--backend', 'cpu']);
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(forced.stderr, /^backend: cpu$/m);
  const fromEnv = runGlimpse(args, { GLIMPSE_BACKEND: 'cpu' });
  assert.match(fromEnv.stderr, /^backend: cpu$/m);
  rmSync(out);
  expectOneLineError([...args, '--backend', 'quantum'], [/quantum/, /wasm/], out);
  const envBad = runGlimpse(args, { GLIMPSE_BACKEND: 'quantum' });
  assert.notEqual(envBad.code, 0);
  assert.match(envBad.stderr, /GLIMPSE_BACKEND.*quantum/);
});
