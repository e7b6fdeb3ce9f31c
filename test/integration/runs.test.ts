/**
 * Training runs through the real engine (task threads, the run log, checkpoints on disk) on a small h5py
 * dataset: a form's bad settings refused before anything starts; a run's live points (run events) equal
 * what getRun reads back; stop, resume, a second writer refused ('busy'); the app closed mid-run and
 * reopened (the run 'interrupted', resumed to the end: every epoch once, each epoch's checkpoint kept, the
 * best marked and equal to model.h5); a dataset that disappears mid-run fails the run with a clear message
 * and keeps the finished epochs.
 */
import assert from 'node:assert/strict';
import { cpSync, existsSync, mkdirSync, mkdtempSync, renameSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { readCheckpoint } from '../../model/checkpoint/index.ts';
import type { EngineEvent, GlimpseErrorCode, RunPoint, RunSummary } from '../../main/engine/api.ts';
import { createEngine, type Engine } from '../../main/engine/engine.ts';
import { GlimpseError } from '../../main/engine/errors.ts';
import { makeSignalDataset } from '../support/signal-dataset.ts';

let root: string;
let dataset: string;
const engines = new Set<Engine>();

const SETTINGS = {
  maxlen: 8,
  lastN: 8,
  trainingStride: 4,
  validStride: 8,
  dim: 16,
  dimOut: 16,
  optimizer: 'adam',
  lrate: 0.005,
  batchSize: 16,
  useDropout: false,
  seed: 5,
};

async function open(workspace: string): Promise<{ engine: Engine; events: EngineEvent[] }> {
  const engine = await createEngine({ workspace, transport: 'browser', mediaUrl: (id) => `/media/${id}` });
  engines.add(engine);
  const events: EngineEvent[] = [];
  engine.subscribe((e) => events.push(e));
  return { engine, events };
}

async function close(engine: Engine): Promise<void> {
  engines.delete(engine);
  await engine.close();
}

async function until<T>(
  what: string,
  probe: () => Promise<T | null> | T | null,
  timeoutMs = 240_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function rejectsWith(work: Promise<unknown>, code: GlimpseErrorCode, pattern: RegExp): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof GlimpseError, `not a GlimpseError: ${String(err)}`);
    assert.equal(err.code, code, err.message);
    assert.match(err.message, pattern);
    return true;
  });
}

/** The points a listener rebuilds from run events (`from` + `points`), as the Train view does. */
function pointsFromEvents(events: EngineEvent[], id: string): RunPoint[] {
  let points: RunPoint[] = [];
  for (const e of events) {
    if (e.type !== 'run' || e.run.id !== id) continue;
    assert.ok(e.from <= points.length, 'an event starts past the points already sent');
    points = [...points.slice(0, e.from), ...e.points];
  }
  return points;
}

function epochsOf(points: RunPoint[]): number[] {
  return points.filter((p) => p.kind === 'epoch').map((p) => p.epoch);
}

const ended = (run: RunSummary) => !['queued', 'running'].includes(run.state);

before(() => {
  root = mkdtempSync(path.join(tmpdir(), 'glimpse-runs-'));
  dataset = path.join(root, 'signal');
  mkdirSync(dataset);
  makeSignalDataset(dataset);
});

after(async () => {
  for (const engine of engines) await engine.close();
});

test('bad run settings are refused before a run folder or job exists', async () => {
  const { engine } = await open(path.join(root, 'ws-bad'));
  await rejectsWith(
    engine.startRun({ dataset, settings: { dimm: 3 } }),
    'bad-request',
    /unknown setting "dimm"/,
  );
  await rejectsWith(
    engine.startRun({ dataset, settings: { dim: 0 } }),
    'bad-request',
    /dim must be a positive/,
  );
  await rejectsWith(engine.startRun({ dataset, settings: { epochs: 1.5 } }), 'bad-request', /epochs/);
  await rejectsWith(
    engine.startRun({ dataset, settings: { optimizer: 'adagrad' } }),
    'bad-request',
    /adagrad/,
  );
  await rejectsWith(
    engine.startRun({ dataset, settings: { validSplit: 'nope' } }),
    'not-found',
    /no split "nope" \(splits: test, train, valid\)/,
  );
  await rejectsWith(
    engine.startRun({ dataset: path.join(root, 'missing'), settings: {} }),
    'not-found',
    /missing: folder not found/,
  );
  assert.deepEqual(await engine.listRuns(), []);
  assert.deepEqual(await engine.listJobs(), []);
  await close(engine);
});

test('a run: live points, stop, resume, busy, restart, resume to the end', async () => {
  const workspace = path.join(root, 'ws');
  let { engine, events } = await open(workspace);
  const started = await engine.startRun({ name: 'signal λ0', dataset, settings: { ...SETTINGS, epochs: 7 } });
  const id = started.id;
  assert.match(id, /^signal-0-[0-9a-f]{6}$/);
  assert.equal(started.name, 'signal λ0');
  assert.equal(started.epochs, 7);
  assert.equal(started.metric, 'accuracy');

  // Live: run events carry the points; stop once the first epoch has finished.
  await until('epoch 1', () => (epochsOf(pointsFromEvents(events, id)).length >= 1 ? true : null));
  await engine.stopRun(id);
  const stopped = await until('the stop', async () => {
    const run = await engine.getRun(id);
    return ended(run) ? run : null;
  });
  assert.equal(stopped.state, 'cancelled');
  assert.equal(stopped.resumable, true);
  assert.ok(stopped.epochsDone >= 1 && stopped.epochsDone < 7, `epochs done ${stopped.epochsDone}`);
  assert.ok(stopped.points.some((p) => p.kind === 'batch'));
  assert.equal(stopped.checkpoints.length, stopped.epochsDone);
  for (const c of stopped.checkpoints) assert.ok(existsSync(c.path), c.path);
  await until('the last run event', () => {
    const live = pointsFromEvents(events, id);
    return live.length === stopped.points.length ? live : null;
  });
  assert.deepEqual(pointsFromEvents(events, id), stopped.points);

  // Resume; a second resume or another job writing the same model is refused.
  const resumed = await engine.resumeRun(id);
  assert.ok(['queued', 'running'].includes(resumed.state));
  await rejectsWith(engine.resumeRun(id), 'busy', /is already training/);
  await rejectsWith(
    engine.startJob({ kind: 'train', dataset, out: stopped.model, settings: SETTINGS }),
    'busy',
    /already writing it/,
  );
  const before = stopped.epochsDone;
  await until('an epoch after the resume', async () =>
    (await engine.getRun(id)).epochsDone > before ? true : null,
  );

  // The app closes mid-run: the run comes back interrupted and resumable.
  await close(engine);
  ({ engine, events } = await open(workspace));
  const [listed] = await engine.listRuns();
  assert.equal(listed.id, id);
  assert.equal(listed.state, 'interrupted');
  assert.equal(listed.resumable, true);
  await engine.resumeRun(id);
  const done = await until('the end of the run', async () => {
    const run = await engine.getRun(id);
    return ended(run) ? run : null;
  });
  assert.equal(done.state, 'done', done.error?.message);
  assert.equal(done.resumable, false);
  assert.equal(done.epochsDone, 7);
  // Each epoch once, in order; batch points only of epochs that finished or the one being trained.
  assert.deepEqual(epochsOf(done.points), [1, 2, 3, 4, 5, 6, 7]);
  assert.deepEqual(
    done.checkpoints.map((c) => c.epoch),
    [1, 2, 3, 4, 5, 6, 7],
  );
  const best = done.checkpoints.filter((c) => c.best);
  assert.equal(best.length, 1);
  assert.equal(best[0].epoch, done.bestEpoch);
  assert.equal(best[0].validScore, Math.max(...done.checkpoints.map((c) => c.validScore)));
  // Ties go to the later epoch, as training picks the best.
  assert.equal(
    best[0].epoch,
    Math.max(...done.checkpoints.filter((c) => c.validScore === best[0].validScore).map((c) => c.epoch)),
  );
  const bestModel = await readCheckpoint(done.model);
  const bestEpoch = await readCheckpoint(best[0].path);
  assert.ok(bestModel.params.size > 0);
  for (const [name, value] of bestModel.params)
    assert.deepEqual(bestEpoch.params.get(name), value, `parameter ${name}`);
  assert.equal(done.resolved?.settings.epochs, 7);
  await rejectsWith(engine.resumeRun(id), 'bad-request', /finished all its epochs/);
  await rejectsWith(engine.getRun('no-such-run'), 'not-found', /no training run no-such-run/);
  await close(engine);
});

test('a dataset that disappears mid-run fails the run with a clear message; finished epochs are kept', async () => {
  const moving = path.join(root, 'moving');
  cpSync(dataset, moving, { recursive: true });
  const { engine, events } = await open(path.join(root, 'ws-gone'));
  const { id } = await engine.startRun({ dataset: moving, settings: { ...SETTINGS, epochs: 30 } });
  await until('epoch 1', () => (epochsOf(pointsFromEvents(events, id)).length >= 1 ? true : null));
  renameSync(moving, `${moving}-elsewhere`);
  const failed = await until('the failure', async () => {
    const run = await engine.getRun(id);
    return ended(run) ? run : null;
  });
  assert.equal(failed.state, 'failed');
  assert.equal(failed.error?.code, 'not-found');
  assert.match(
    failed.error?.message ?? '',
    /moving\/train_features\.h5: file not found: the dataset disappeared during training; the last finished epoch \(\d+\) is kept/,
  );
  assert.ok(failed.epochsDone >= 1);
  assert.equal(failed.checkpoints.length, failed.epochsDone);
  assert.equal(failed.resumable, true);
  // The app keeps working: the run list still answers.
  assert.equal((await engine.listRuns()).length, 1);
  await close(engine);
});
