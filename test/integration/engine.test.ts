/**
 * The engine on real files: a small synthetic set extracted with the built-in backbone and a tiny model
 * trained through the real CLI (test/support/engine-fixture.ts), then every API path a front end uses.
 */
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { decode as decodePng } from 'fast-png';
import { openSplit } from '../../model/data/split.ts';
import { writeFeatureDataset } from '../../model/data/writer.ts';
import type { EngineEvent, GlimpseErrorCode, InspectResult, JobInfo } from '../../main/engine/api.ts';
import { createEngine, type Engine } from '../../main/engine/engine.ts';
import { GlimpseError } from '../../main/engine/errors.ts';
import { probeVideo } from '../../main/media/probe.ts';
import { runGlimpse } from '../support/cli.ts';
import { makeEngineFixture, type EngineFixture } from '../support/engine-fixture.ts';

let fx: EngineFixture;
let workspace: string;
const engines: Engine[] = [];

async function open(dir = workspace): Promise<Engine> {
  const engine = await createEngine({
    workspace: dir,
    transport: 'browser',
    mediaUrl: (id) => `/media/${id}`,
  });
  engines.push(engine);
  return engine;
}

async function close(engine: Engine): Promise<void> {
  engines.splice(engines.indexOf(engine), 1);
  await engine.close();
}

function until(engine: Engine, id: string, done: (job: JobInfo) => boolean): Promise<JobInfo> {
  return new Promise((resolve) => {
    const check = (job: JobInfo) => {
      if (job.id === id && done(job)) {
        off();
        resolve(job);
      }
    };
    const off = engine.subscribe((e: EngineEvent) => {
      if (e.type === 'job') check(e.job);
    });
    void engine.listJobs().then((jobs) => jobs.forEach(check));
  });
}

const finished = (job: JobInfo) => ['done', 'failed', 'cancelled'].includes(job.state);

async function rejectsWith(work: Promise<unknown>, code: GlimpseErrorCode, names: string): Promise<void> {
  await assert.rejects(work, (err: unknown) => {
    assert.ok(err instanceof GlimpseError, String(err));
    assert.equal(err.code, code, err.message);
    assert.ok(err.message.includes(names), `"${err.message}" names ${names}`);
    assert.ok(!err.message.includes('\n'), 'one line');
    return true;
  });
}

function ready(outcome: Awaited<ReturnType<Engine['inspect']>>): InspectResult {
  assert.equal(outcome.status, 'ready');
  return (outcome as { result: InspectResult }).result;
}

before(() => {
  fx = makeEngineFixture();
  workspace = path.join(fx.root, 'workspace');
});

after(async () => {
  for (const engine of [...engines]) await engine.close();
  rmSync(fx.root, { recursive: true, force: true });
});

const datasetSource = () => ({ kind: 'dataset' as const, dir: fx.features, split: 'test', index: 0 });

test('openModel, openDataset, listVideos, openVideo, frames, browse', async () => {
  const engine = await open();
  const model = await engine.openModel(fx.model);
  assert.equal(model.format, 'h5');
  assert.match(model.hash, /^[0-9a-f]{64}$/);
  assert.deepEqual(model.defaults, { maxlen: 16, lastN: 8, stride: 16 });
  assert.match(model.featureSpec?.backbone ?? '', /^builtin/);
  assert.equal(model.featureSpec?.ctxDim, 32);
  assert.ok(model.matchingBackbones.includes('builtin'));
  assert.deepEqual(model.classNames, ['horizontal', 'vertical']);

  const dataset = await engine.openDataset(fx.features);
  assert.deepEqual(
    dataset.splits.map((s) => s.name),
    ['test', 'train', 'valid'],
  );
  assert.equal(dataset.videosDir, fx.videos);
  const videos = await engine.listVideos(fx.features, 'test');
  assert.equal(videos.length, 2);
  assert.ok(videos[0].videoPath?.startsWith(fx.videos));

  const video = await engine.openVideo(videos[0].videoPath as string);
  assert.equal(video.playback.fps, 30);
  assert.equal(video.playback.frames, videos[0].frames, 'one proxy picture per feature row');
  const served = engine.resolveMedia(video.playback.url.replace('/media/', ''));
  assert.equal(served?.contentType, 'video/mp4');
  assert.equal(engine.resolveMedia('not-registered'), null);

  const frames = await engine.frames({ path: video.path, indices: [0, 39], width: 56 });
  assert.equal(frames.width, 56);
  assert.equal(frames.frames.length, 2);
  assert.equal(frames.frames[0].length, 56 * frames.height * 4);
  assert.ok(!Buffer.isBuffer(frames.frames[0]), 'typed arrays, not Node Buffers');
  await rejectsWith(engine.frames({ path: video.path, indices: [40] }), 'bad-request', 'frame 40');

  const listing = await engine.browse(fx.root);
  const role = (name: string) => listing.entries.find((e) => e.name === name)?.role;
  assert.equal(role('features'), 'dataset');
  assert.equal(role('model.h5'), 'model');
  const state = await engine.workspace();
  assert.deepEqual(state.recent.models, [fx.model]);
  await close(engine);
});

test('inspect of a dataset video equals glimpse predict at the same stride; cached across a restart', async () => {
  const report = path.join(fx.root, 'predict.json');
  const run = runGlimpse([
    'predict',
    '--model',
    fx.model,
    '--dataset',
    fx.features,
    '--split',
    'test',
    '--stride',
    '8',
    '--out',
    report,
  ]);
  assert.equal(run.code, 0, run.stderr);
  const predicted = (
    JSON.parse(readFileSync(report, 'utf8')) as {
      videos: {
        prediction: number;
        scores: number[];
        clips: { start: number; probs: number[][]; alpha: number[][] }[];
      }[];
    }
  ).videos[0];

  let engine = await open();
  const request = { model: fx.model, source: datasetSource(), stride: 8 };
  const result = ready(await engine.inspect(request));
  assert.equal(result.cached, false);
  assert.equal(result.grid, 7);
  assert.equal(result.stride, 8);
  assert.deepEqual(
    result.clips.map((c) => c.start),
    predicted.clips.map((c) => c.start),
  );
  result.clips.forEach((clip, i) => {
    const want = predicted.clips[i];
    assert.ok(clip.probs instanceof Float32Array && clip.alpha instanceof Float32Array);
    want.probs.flat().forEach((p, j) => assert.ok(Math.abs(clip.probs[j] - p) < 1e-5, `probs ${i}/${j}`));
    want.alpha.flat().forEach((a, j) => assert.ok(Math.abs(clip.alpha[j] - a) < 1e-5, `alpha ${i}/${j}`));
  });
  assert.equal(result.prediction, predicted.prediction);
  result.scores.forEach((s, c) => assert.ok(Math.abs(s - predicted.scores[c]) < 1e-5));
  assert.equal(result.video?.playback.frames, result.frames);

  // Default protocol: non-overlapping clips of maxlen, the last one ending at the last frame.
  const defaults = ready(await engine.inspect({ model: fx.model, source: datasetSource() }));
  assert.deepEqual(
    defaults.clips.map((c) => [c.start, c.steps]),
    [
      [0, 16],
      [16, 16],
      [24, 16],
    ],
  );

  await close(engine);
  engine = await open();
  const started = performance.now();
  const again = ready(await engine.inspect(request));
  const ms = performance.now() - started;
  process.stdout.write(`# cached inspect after a restart: ${ms.toFixed(1)} ms\n`);
  assert.equal(again.cached, true);
  assert.deepEqual(Array.from(again.clips[1].alpha), Array.from(result.clips[1].alpha));
  assert.ok(ms < 1000, `cached inspect took ${ms} ms`);
  await close(engine);
});

test('inspect of a raw video: a job extracts it with the model backbone, then the cache answers', async () => {
  const engine = await open();
  const video = (await engine.listVideos(fx.features, 'test'))[0].videoPath as string;
  const outcome = await engine.inspect({
    model: fx.model,
    source: { kind: 'video', path: video },
    stride: 8,
  });
  assert.equal(outcome.status, 'job');
  const job = await until(engine, (outcome as { job: JobInfo }).job.id, finished);
  assert.equal(job.state, 'done', JSON.stringify(job.error));
  assert.ok(job.progress && job.progress.fraction === 1);
  const result = ready(
    await engine.inspect({ model: fx.model, source: { kind: 'video', path: video }, stride: 8 }),
  );
  assert.equal(result.cached, true);
  assert.equal(result.backbone, 'builtin');
  assert.equal(result.label, null);
  const fromDataset = ready(await engine.inspect({ model: fx.model, source: datasetSource(), stride: 8 }));
  assert.equal(result.featuresHash, fromDataset.featuresHash, 'the same feature rows as extraction made');
  assert.deepEqual(Array.from(result.clips[0].probs), Array.from(fromDataset.clips[0].probs));
  await close(engine);
});

test('exports: a filmstrip PNG that decodes, the video with its overlay, an npz', async () => {
  const engine = await open();
  const job = await engine.startJob({
    kind: 'export-filmstrip',
    request: { model: fx.model, source: datasetSource() },
    overlay: { colormap: 'inferno', opacity: 0.7, smooth: true },
    frames: [0, 5, 10],
  });
  const done = await until(engine, job.id, finished);
  assert.equal(done.state, 'done', JSON.stringify(done.error));
  const file = String(done.result?.path);
  assert.ok(file.startsWith(path.join(workspace, 'exports')));
  const png = decodePng(readFileSync(file));
  assert.equal(png.width, done.result?.width);
  assert.equal(png.channels, 3);
  assert.ok(png.height > 2 * 112, `${png.width}×${png.height}`);
  assert.equal(
    engine.resolveMedia(String(done.result?.url).replace('/media/', ''))?.contentType,
    'image/png',
  );

  const videoJob = await engine.startJob({
    kind: 'export-video',
    request: { model: fx.model, source: datasetSource() },
    overlay: { colormap: 'viridis', opacity: 0.5, smooth: false },
    format: 'mp4',
  });
  const made = await until(engine, videoJob.id, finished);
  assert.equal(made.state, 'done', JSON.stringify(made.error));
  const info = await probeVideo(String(made.result?.path));
  assert.equal(info.codec, 'h264');
  assert.equal(info.frameCount, 40, 'one picture per feature row');

  const npz = path.join(fx.root, 'exported.npz');
  const npzJob = await engine.startJob({ kind: 'export-npz', model: fx.model, out: npz });
  assert.equal((await until(engine, npzJob.id, finished)).state, 'done');
  assert.equal((await engine.openModel(npz)).format, 'npz');

  const evaluation = await engine.startJob({
    kind: 'evaluate',
    model: fx.model,
    dataset: fx.features,
    split: 'test',
  });
  const evaluated = await until(engine, evaluation.id, finished);
  assert.equal(evaluated.state, 'done', JSON.stringify(evaluated.error));
  const metrics = evaluated.result?.metrics as { accuracy: number };
  assert.ok(metrics.accuracy >= 0 && metrics.accuracy <= 1);
  const written = JSON.parse(readFileSync(String(evaluated.result?.path), 'utf8')) as {
    metrics: { accuracy: number };
  };
  assert.equal(written.metrics.accuracy, metrics.accuracy);
  await close(engine);
});

test('extraction: cancel, then resume to the same features as an uninterrupted run', async () => {
  // Longer videos than the fixture's, so that the cancel lands mid-run.
  const videos = path.join(fx.root, 'long-videos');
  const reference = path.join(fx.root, 'long-features');
  for (const args of [
    ['synth', '--out', videos, '--seed', '5', '--classes', '2', '--videos', '3', '--frames', '120'],
    ['extract', '--videos', videos, '--dataset-kind', 'synth', '--out', reference],
  ]) {
    const r = runGlimpse(args);
    assert.equal(r.code, 0, r.stderr);
  }
  const engine = await open();
  const outDir = path.join(fx.root, 'extract-again');
  const job = await engine.startJob({ kind: 'extract', videosDir: videos, datasetKind: 'synth', outDir });
  await rejectsWith(
    engine.startJob({ kind: 'extract', videosDir: videos, datasetKind: 'synth', outDir }),
    'busy',
    outDir,
  );
  const first = await until(engine, job.id, (j) => (j.progress?.fraction ?? 0) > 0 || finished(j));
  assert.equal(first.state, 'running');
  assert.equal(first.progress?.rateUnit, 'frames/s');
  await engine.cancelJob(job.id);
  const cancelled = await until(engine, job.id, finished);
  assert.equal(cancelled.state, 'cancelled');
  assert.equal(cancelled.resumable, true);
  await engine.resumeJob(job.id);
  const done = await until(engine, job.id, (j) => j.state === 'done' || j.state === 'failed');
  assert.equal(done.state, 'done', JSON.stringify(done.error));
  for (const split of ['train', 'valid', 'test']) {
    const a = await openSplit(reference, split);
    const b = await openSplit(outDir, split);
    try {
      assert.deepEqual(
        b.videos.map((v) => [v.file, v.frames]),
        a.videos.map((v) => [v.file, v.frames]),
      );
      assert.deepEqual(b.readRows(0, b.totalFrames), a.readRows(0, a.totalFrames));
    } finally {
      a.close();
      b.close();
    }
  }
  await close(engine);
});

test('the API answers while training runs; a job running at close comes back interrupted', async () => {
  const ws = path.join(fx.root, 'workspace-train');
  let engine = await open(ws);
  const out = path.join(fx.root, 'long.h5');
  const job = await engine.startJob({
    kind: 'train',
    dataset: fx.features,
    out,
    settings: { dim: 16, dimOut: 16, maxlen: 16, trainingStride: 1, batchSize: 8, epochs: 200, seed: 1 },
  });
  await until(engine, job.id, (j) => (j.progress !== null && j.state === 'running') || finished(j));
  const request = { model: fx.model, source: datasetSource(), stride: 8 };
  ready(await engine.inspect(request));
  const times: number[] = [];
  for (let i = 0; i < 9; i++) {
    const t0 = performance.now();
    ready(await engine.inspect(request));
    await engine.listJobs();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const median = times[4];
  process.stdout.write(
    `# API call while training: median ${median.toFixed(1)} ms, max ${times[8].toFixed(1)} ms\n`,
  );
  assert.ok(median < 250, `median ${median} ms`);
  assert.equal((await engine.listJobs()).find((j) => j.id === job.id)?.state, 'running');
  await close(engine);

  engine = await open(ws);
  const back = (await engine.listJobs()).find((j) => j.id === job.id);
  assert.equal(back?.state, 'interrupted');
  assert.equal(back?.resumable, true);
  await close(engine);
});

test('bad inputs: the right codes, one line naming the file', async () => {
  const engine = await open();
  const bad = path.join(fx.root, 'bad');
  mkdirSync(bad, { recursive: true });
  const missing = path.join(bad, 'missing.h5');
  await rejectsWith(engine.openModel(missing), 'not-found', missing);
  const notCheckpoint = path.join(bad, 'text.h5');
  writeFileSync(notCheckpoint, 'not an HDF5 file\n');
  await rejectsWith(engine.openModel(notCheckpoint), 'bad-file', notCheckpoint);
  const notVideo = path.join(bad, 'text.mp4');
  writeFileSync(notVideo, 'not a video\n');
  await rejectsWith(engine.openVideo(notVideo), 'bad-file', notVideo);
  await rejectsWith(engine.openDataset(path.join(bad, 'nowhere')), 'not-found', 'nowhere');
  await rejectsWith(engine.openDataset(bad), 'bad-file', bad);
  // A dataset of D = 8 features against a model that reads D = 32.
  const narrow = path.join(bad, 'narrow');
  await writeFeatureDataset(
    narrow,
    'test',
    [{ file: 'a.mkv', label: 0, frames: new Float32Array(20 * 49 * 8) }],
    49,
    8,
  );
  writeFileSync(
    path.join(narrow, 'dataset.json'),
    JSON.stringify({
      backbone: 'x',
      fps: 30,
      locations: 49,
      ctxDim: 8,
      layout: 'channel-major',
      provenance: {},
    }),
  );
  await rejectsWith(
    engine.inspect({ model: fx.model, source: { kind: 'dataset', dir: narrow, split: 'test', index: 0 } }),
    'mismatch',
    'D=8',
  );
  await rejectsWith(
    engine.inspect({
      model: fx.model,
      source: { kind: 'dataset', dir: fx.features, split: 'nosuch', index: 0 },
    }),
    'not-found',
    'nosuch_features.h5',
  );
  // A reference .npz records no feature spec: a raw video needs a backbone, and the error offers the matches.
  const npz = path.join(bad, 'reference.npz');
  const exported = runGlimpse(['export', '--model', fx.model, '--format', 'npz', '--out', npz]);
  assert.equal(exported.code, 0, exported.stderr);
  const video = (await engine.listVideos(fx.features, 'test'))[0].videoPath as string;
  await rejectsWith(
    engine.inspect({ model: npz, source: { kind: 'video', path: video } }),
    'mismatch',
    'presets with D=32: builtin',
  );
  await rejectsWith(
    engine.inspect({ model: npz, source: { kind: 'video', path: video }, backbone: 'mobilenet-v1-0.25' }),
    'mismatch',
    'gives D=256',
  );
  // The engine keeps working after all of that.
  assert.equal((await engine.openModel(fx.model)).path, fx.model);
  await close(engine);
});
