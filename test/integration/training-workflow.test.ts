/**
 * The training library as the CLI and the engine call it: a checkpoint records the feature spec of its data
 * (h5py reads the attribute, readCheckpoint returns it); UCF-11-named data without a validation split gives up
 * whole groups; progress is the one Progress event; an aborted run ends in a CancelledError.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { CancelledError, type Progress } from '../../common/progress.ts';
import { toErrorData } from '../../main/engine/errors.ts';
import { ucf11GroupNumber } from '../../main/workflows/hold-out.ts';
import { runTraining, type TrainingSpec } from '../../main/workflows/training.ts';
import { chooseBackend } from '../../model/backend.ts';
import { readCheckpoint } from '../../model/checkpoint/index.ts';
import { FIXTURES, runGlimpse, runPython } from '../support/cli.ts';
import { makeSignalDataset, smallTrainArgs } from '../support/signal-dataset.ts';

const tmp = mkdtempSync(join(tmpdir(), 'glimpse-training-workflow-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

const SPEC = {
  backbone: 'builtin',
  frameSize: { width: 112, height: 112 },
  fps: 15,
  locations: 16,
  ctxDim: 24,
};

function signalDataset(name: string, info: object): string {
  const dir = join(tmp, name);
  mkdirSync(dir);
  makeSignalDataset(dir);
  writeFileSync(join(dir, 'dataset.json'), JSON.stringify({ layout: 'channel-major', ...info }));
  return dir;
}

test('glimpse train records the feature spec; h5py reads it; readCheckpoint returns it', async () => {
  const dataset = signalDataset('with-spec', { ...SPEC, provenance: { note: 'test' } });
  const out = join(tmp, 'with-spec.h5');
  const r = runGlimpse(smallTrainArgs(dataset, out, 1, 3));
  assert.equal(r.code, 0, r.stderr);
  const attribute = runPython("import sys, h5py\nprint(h5py.File(sys.argv[1], 'r').attrs['feature_spec'])", [
    out,
  ]);
  assert.deepEqual(JSON.parse(attribute), SPEC);
  assert.deepEqual((await readCheckpoint(out)).featureSpec, SPEC);
  // The resume file carries it too: it is what a resumed run writes its checkpoints from.
  assert.deepEqual((await readCheckpoint(out.replace(/\.h5$/, '.resume.h5'))).featureSpec, SPEC);
});

test('no backbone in dataset.json, .npz files and damaged attributes: null or a one-line error', async () => {
  const dataset = signalDataset('no-spec', { locations: 16, ctxDim: 24 });
  const out = join(tmp, 'no-spec.h5');
  assert.equal(runGlimpse(smallTrainArgs(dataset, out, 1, 3)).code, 0);
  assert.equal((await readCheckpoint(out)).featureSpec, null);
  assert.equal(
    runPython("import sys, h5py\nprint('feature_spec' in h5py.File(sys.argv[1], 'r').attrs)", [out]).trim(),
    'False',
  );
  assert.equal(
    (await readCheckpoint(join(FIXTURES, 'reference', 'multilabel', 'model.npz'))).featureSpec,
    null,
  );

  const damaged = join(tmp, 'damaged.h5');
  runPython(
    'import sys, shutil, h5py\nshutil.copy(sys.argv[1], sys.argv[2])\nh5py.File(sys.argv[2], \'a\').attrs[\'feature_spec\'] = \'{"backbone": "builtin", "fps": -1}\'',
    [join(tmp, 'with-spec.h5'), damaged],
  );
  await assert.rejects(readCheckpoint(damaged), {
    message: `${damaged}: feature spec fps must be a positive number, got -1`,
  });
});

/** The signal dataset with UCF-11 file names (12 groups × 8 clips of one action) and no validation split. */
function ucf11NamedDataset(): string {
  const dir = signalDataset('ucf11-names', SPEC);
  rmSync(join(dir, 'valid_features.h5'));
  const names = Array.from({ length: 96 }, (_, i) => {
    const gg = String(Math.floor(i / 8) + 1).padStart(2, '0');
    return `biking/v_biking_${gg}/v_biking_${gg}_0${(i % 8) + 1}.avi`;
  });
  writeFileSync(join(dir, 'train_filename.txt'), names.join('\n') + '\n');
  return dir;
}

const SMALL: Pick<TrainingSpec, 'model' | 'settings'> = {
  model: { dim: 16, dimOut: 16 },
  settings: { maxlen: 8, trainingStride: 4, validStride: 8, optimizer: 'adam', lrate: 0.005, batchSize: 16 },
};

test('runTraining: UCF-11 names hold out whole groups; progress is one Progress event; the run log', async () => {
  const backend = await chooseBackend('wasm');
  const dataset = ucf11NamedDataset();
  const out = join(tmp, 'ucf11.h5');
  const lines: string[] = [];
  const events: Progress[] = [];
  const outcome = await runTraining(
    {
      dataset,
      out,
      seed: 5,
      backendName: backend.name,
      ...SMALL,
      settings: { ...SMALL.settings, epochs: 2 },
    },
    { log: (line) => lines.push(line), onProgress: (p) => events.push(p) },
  );
  assert.match(lines.join('\n'), /holding out \d+ of 96 training videos \(whole UCF-11 groups\)/);
  assert.equal(outcome.epochsRun, 2);
  assert.equal(outcome.logPath, join(tmp, 'ucf11.log.jsonl'));
  const log = readFileSync(outcome.logPath, 'utf8')
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { kind: string });
  assert.deepEqual([log[0].kind, log.at(-1)?.kind], ['start', 'done']);

  const ckpt = await readCheckpoint(out);
  assert.match(String(ckpt.provenance.validSplit), /held out by UCF-11 group/);
  assert.deepEqual(ckpt.featureSpec, SPEC);
  // Every validation video's group is absent from training.
  const names = readFileSync(join(dataset, 'train_filename.txt'), 'utf8').trim().split('\n');
  const held = outcome.heldOut;
  assert.ok(held && held.unit === 'group' && held.valid.length > 0 && held.valid.length % 8 === 0);
  const trainGroups = new Set(held.train.map((i) => ucf11GroupNumber(names[i])));
  for (const i of held.valid) assert.ok(!trainGroups.has(ucf11GroupNumber(names[i])), names[i]);

  assert.ok(events.length > 2);
  for (const p of events) {
    assert.ok(p.fraction > 0 && p.fraction <= 1, `fraction ${p.fraction}`);
    assert.equal(p.rateUnit, 'clips/s');
    assert.equal(typeof p.message, 'string');
  }
  assert.ok(
    events.every((p, i) => i === 0 || p.fraction >= events[i - 1].fraction),
    'fraction never falls',
  );
  assert.equal(events.at(-1)?.fraction, 1);
});

test('runTraining: an aborted run ends in a CancelledError the engine maps to code cancelled', async () => {
  const dataset = join(tmp, 'ucf11-names');
  const controller = new AbortController();
  const run = runTraining(
    { dataset, out: join(tmp, 'aborted.h5'), ...SMALL, settings: { ...SMALL.settings, epochs: 5 } },
    { signal: controller.signal, onProgress: () => controller.abort() },
  );
  const err: unknown = await run.then(
    () => null,
    (e: unknown) => e,
  );
  assert.ok(err instanceof CancelledError, String(err));
  assert.equal(toErrorData(err).code, 'cancelled');
});
