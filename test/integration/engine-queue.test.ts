// Queued engine jobs (issue 9 item 4) on a real redis-server and one real `glimpse worker` process: an
// extract job with `queue` reports its workers and queue jobs in the job list, ends 'done', and writes the
// same files as a local extraction (sha256, and the rows via h5py); a queued evaluate job gives
// the local job's report; a bad queue URL is refused at the boundary, a queue that does not answer fails
// the job in one line, and a cancelled queued job leaves no waiting queue jobs behind.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { after, before, test } from 'node:test';
import type { EngineEvent, JobInfo, JobSpec } from '../../main/engine/api.ts';
import { createEngine, type Engine } from '../../main/engine/engine.ts';
import { GlimpseError } from '../../main/engine/errors.ts';
import { parseApiCall } from '../../main/engine/schemas.ts';
import type { EvaluationReport } from '../../main/workflows/evaluation.ts';
import { runPython } from '../support/cli.ts';
import { makeEngineFixture, type EngineFixture } from '../support/engine-fixture.ts';
import {
  freePort,
  HAVE_REDIS,
  startRedis,
  startWorker,
  type TestRedis,
  type TestWorker,
} from '../support/redis.ts';

const skip = HAVE_REDIS ? false : 'redis-server is not on PATH';
let fx: EngineFixture;
let redis: TestRedis;
let worker: TestWorker;
let engine: Engine;

const sha256 = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');

/** The features read back with h5py: shape, dtype, sha256 of the rows. */
function featuresDigest(file: string): string {
  return runPython(
    'import h5py, hashlib, sys\n' +
      "d = h5py.File(sys.argv[1], 'r')['features']\n" +
      'print(d.shape, d.dtype, hashlib.sha256(d[()].tobytes()).hexdigest())',
    [file],
  ).trim();
}

/** Runs a job to its end, keeping every event of it. */
async function runJob(spec: JobSpec): Promise<{ end: JobInfo; seen: JobInfo[] }> {
  const seen: JobInfo[] = [];
  let id = '';
  const ended = new Promise<JobInfo>((resolve) => {
    const off = engine.subscribe((e: EngineEvent) => {
      if (e.type !== 'job' || e.job.id !== id) return;
      seen.push(e.job);
      if (['done', 'failed', 'cancelled'].includes(e.job.state)) {
        off();
        resolve(e.job);
      }
    });
  });
  id = (await engine.startJob(spec)).id;
  return { end: await ended, seen };
}

before(async () => {
  if (skip) return;
  fx = makeEngineFixture();
  redis = await startRedis();
  worker = await startWorker(redis.url);
  engine = await createEngine({
    workspace: path.join(fx.root, 'workspace'),
    transport: 'browser',
    mediaUrl: (id) => `/media/${id}`,
  });
});

after(async () => {
  await engine?.close();
  await worker?.stop();
  await redis?.stop();
  if (fx) rmSync(fx.root, { recursive: true, force: true });
});

test(
  'a queued extract job shows its worker and queue jobs, and writes the local features',
  { skip },
  async () => {
    const outDir = path.join(fx.root, 'queued-features');
    const { end, seen } = await runJob({
      kind: 'extract',
      videosDir: fx.videos,
      datasetKind: 'synth',
      outDir,
      queue: redis.url,
    });
    assert.equal(end.state, 'done', JSON.stringify(end.error) + worker.log());
    const withWorkers = seen.filter((j) => j.queue && j.queue.workers.some((w) => w.alive));
    assert.ok(
      withWorkers.length > 0,
      `no event named an alive worker: ${JSON.stringify(seen.at(-1)?.queue)}`,
    );
    const q = end.queue;
    assert.ok(q, 'the finished job keeps its queue side');
    assert.equal(q.url, redis.url);
    assert.equal(q.unit, 'videos');
    assert.equal(q.failedJobs, 0);
    assert.ok(q.jobsTotal > 1 && q.jobsDone === q.jobsTotal, JSON.stringify(q));
    assert.equal(q.done, q.total);
    assert.equal(q.workers.length, 1);
    assert.equal(q.workers[0].id, `${q.workers[0].host}:${worker.child.pid}`);
    // The last word of a finished job is its end, not a step on the way ("merging shards").
    assert.match(q.notices.at(-1) ?? '', /^merged \d+ shards: \d+ frames$/, JSON.stringify(q.notices));
    for (const split of ['train', 'valid', 'test']) {
      const h5 = `${split}_features.h5`;
      assert.equal(featuresDigest(path.join(outDir, h5)), featuresDigest(path.join(fx.features, h5)), h5);
      assert.equal(sha256(path.join(outDir, h5)), sha256(path.join(fx.features, h5)), `${h5}: file bytes`);
      for (const text of ['framenum', 'labels', 'filename'].map((f) => `${split}_${f}.txt`))
        assert.equal(sha256(path.join(outDir, text)), sha256(path.join(fx.features, text)), text);
    }
    // The engine remembers the queue for the next job the workstation starts.
    assert.equal((await engine.workspace()).queues[0], redis.url);
  },
);

test('a queued evaluate job gives the report of a local one', { skip }, async () => {
  const request = { model: fx.model, dataset: fx.features, split: 'test', stride: 4 } as const;
  const local = await runJob({ kind: 'evaluate', ...request });
  assert.equal(local.end.state, 'done', JSON.stringify(local.end.error));
  const queued = await runJob({ kind: 'evaluate', ...request, queue: redis.url });
  assert.equal(queued.end.state, 'done', JSON.stringify(queued.end.error) + worker.log());
  assert.equal(queued.end.queue?.unit, 'clips');
  assert.ok(queued.end.queue && queued.end.queue.jobsDone === queued.end.queue.jobsTotal);
  const report = (job: JobInfo) =>
    JSON.parse(readFileSync(String(job.result?.path), 'utf8')) as EvaluationReport;
  const a = report(local.end);
  const b = report(queued.end);
  assert.deepEqual(b.metrics, a.metrics);
  assert.deepEqual(b.videos, a.videos);
});

test(
  'a bad queue URL is refused at the boundary; a queue that does not answer fails the job in one line',
  { skip },
  async () => {
    const spec = { kind: 'extract', videosDir: fx.videos, datasetKind: 'synth', outDir: fx.root };
    assert.throws(
      () => parseApiCall('startJob', [{ ...spec, queue: 'http://127.0.0.1:6379' }]),
      (err: unknown) =>
        err instanceof GlimpseError && err.code === 'bad-request' && /queue.*redis:\/\//.test(err.message),
    );
    const port = await freePort();
    const { end } = await runJob({
      kind: 'extract',
      videosDir: fx.videos,
      datasetKind: 'synth',
      outDir: path.join(fx.root, 'unanswered'),
      queue: `redis://127.0.0.1:${port}`,
    });
    assert.equal(end.state, 'failed');
    assert.equal(end.error?.code, 'bad-request');
    assert.match(end.error?.message ?? '', new RegExp(`^redis://127\\.0\\.0\\.1:${port}: does not answer`));
    assert.ok(!end.error?.message.includes('\n'));
  },
);

test(
  'cancelling a queued job takes its waiting queue jobs out of Redis and leaves it resumable',
  { skip },
  async () => {
    // Database 1: no worker serves it, so every queue job of this run waits.
    const url = `${redis.url}/1`;
    let id = '';
    const waiting = new Promise<JobInfo>((resolve) => {
      const off = engine.subscribe((e: EngineEvent) => {
        if (e.type === 'job' && e.job.id === id && (e.job.queue?.jobsTotal ?? 0) > 0) {
          off();
          resolve(e.job);
        }
      });
    });
    const outDir = path.join(fx.root, 'cancelled');
    id = (
      await engine.startJob({
        kind: 'extract',
        videosDir: fx.videos,
        datasetKind: 'synth',
        outDir,
        queue: url,
      })
    ).id;
    const seen = await waiting;
    assert.equal(seen.queue?.jobsDone, 0);
    const ended = new Promise<JobInfo>((resolve) => {
      const off = engine.subscribe((e: EngineEvent) => {
        if (e.type === 'job' && e.job.id === id && e.job.state !== 'running') {
          off();
          resolve(e.job);
        }
      });
    });
    await engine.cancelJob(id);
    const end = await ended;
    assert.equal(end.state, 'cancelled', JSON.stringify(end.error));
    assert.equal(end.resumable, true);
    const { Queue } = await import('bullmq');
    const queue = new Queue('glimpse', { connection: { host: '127.0.0.1', port: redis.port, db: 1 } });
    try {
      const counts = await queue.getJobCounts('waiting', 'delayed', 'active', 'prioritized');
      assert.deepEqual(counts, { waiting: 0, paused: 0, delayed: 0, active: 0, prioritized: 0 });
    } finally {
      await queue.close();
    }
  },
);
