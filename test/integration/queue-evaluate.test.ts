/**
 * `glimpse evaluate --queue` on a real redis-server with two real `glimpse worker` processes: the report
 * (with --compare: both models' reports and the paired statistics) is the same file, byte for byte, as
 * `glimpse evaluate` writes without a queue; the shard folder is gone afterwards. A worker that reads
 * another checkpoint at the run's path refuses its jobs with both sha256s, and the coordinator ends with
 * one line and no report.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { Queue } from 'bullmq';
import { QUEUE_NAME } from '../../main/queue/connection.ts';
import { REPO_ROOT, runGlimpse } from '../support/cli.ts';
import { HAVE_REDIS, startRedis, startWorker, type TestRedis, type TestWorker } from '../support/redis.ts';

const skip = HAVE_REDIS ? false : 'redis-server is not on PATH';
const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-queue-evaluate-'));
const features = path.join(tmp, 'features');
const models = [path.join(tmp, 'a.h5'), path.join(tmp, 'b.h5')];
let redis: TestRedis;
const workers: TestWorker[] = [];

after(async () => {
  for (const w of workers) await w.stop();
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

function glimpse(args: string[]): string {
  const r = runGlimpse(args);
  assert.equal(r.code, 0, `glimpse ${args.join(' ')}: ${r.stderr}`);
  return r.stderr;
}

before(async () => {
  if (skip) return;
  const starting = startRedis();
  const videos = path.join(tmp, 'videos');
  glimpse(['synth', '--out', videos, '--seed', '5', '--classes', '2', '--videos', '3', '--frames', '40']);
  glimpse(['extract', '--videos', videos, '--dataset-kind', 'synth', '--out', features]);
  for (const [i, model] of models.entries()) {
    glimpse([
      ...['train', '--dataset', features, '--out', model, '--dim', '8', '--dim-out', '8', '--maxlen', '16'],
      ...['--last-n', '4', '--training-stride', '8', '--batch-size', '8', '--epochs', '1', '--no-dropout'],
      ...['--seed', String(11 + i)],
    ]);
  }
  redis = await starting;
  workers.push(...(await Promise.all([startWorker(redis.url), startWorker(redis.url)])));
});

test('a queued evaluation (with --compare) writes the report glimpse evaluate writes', { skip }, async () => {
  const args = (out: string) => [
    ...['evaluate', '--model', models[0], '--compare', models[1], '--dataset', features, '--split', 'train'],
    ...['--stride', '2', '--batch-size', '4', '--out', out],
  ];
  const local = path.join(tmp, 'local.json');
  const queued = path.join(tmp, 'queued.json');
  glimpse(args(local));
  const stderr = glimpse([...args(queued), '--queue', redis.url, '--batches-per-job', '1']);
  // Both workers took jobs: the clips were shared out (their logs are read once this process's loop runs).
  await new Promise((r) => setTimeout(r, 500));
  for (const w of workers) assert.match(w.log(), /: done → .*evaluate-\d+\.json/, w.log());
  assert.match(stderr, /\d+\/\d+ clips, 2 workers/);
  const a = JSON.parse(readFileSync(local, 'utf8'));
  const b = JSON.parse(readFileSync(queued, 'utf8'));
  assert.ok(a.videos.length > 0 && a.comparison);
  assert.deepEqual(b, a);
  assert.equal(readFileSync(queued, 'utf8'), readFileSync(local, 'utf8'));
  assert.ok(!existsSync(`${queued}.queue`), 'the shard folder is removed');
});

test(
  'a worker whose checkpoint differs from the coordinator’s refuses its jobs with both sha256s; no report',
  { skip },
  async () => {
    // The coordinator's checkpoint, at a path that will hold another one on the worker's side.
    const model = path.join(tmp, 'swapped.h5');
    copyFileSync(models[0], model);
    const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex').slice(0, 12);
    const [runs, other] = [sha(models[0]), sha(models[1])];
    const out = path.join(tmp, 'refused.json');
    // A database no other worker serves: the jobs wait until this test's worker comes.
    const db = 5;
    const url = `${redis.url}/${db}`;
    const child = spawn(
      process.execPath,
      [
        ...[path.join(REPO_ROOT, 'bin/glimpse.js'), 'evaluate', '--model', model, '--dataset', features],
        ...['--split', 'train', '--stride', '2', '--batch-size', '4', '--out', out],
        ...['--queue', url, '--batches-per-job', '2'],
      ],
      { env: { ...process.env, GLIMPSE_BACKEND: 'wasm' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.setEncoding('utf8');
    child.stderr?.on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const queue = new Queue(QUEUE_NAME, { connection: { host: '127.0.0.1', port: redis.port, db } });
    let worker: TestWorker | undefined;
    try {
      // The jobs carry the sha256 the coordinator read before it enqueued the first one.
      const end = Date.now() + 60_000;
      while ((await queue.getWaitingCount()) === 0) {
        assert.equal(child.exitCode, null, `the coordinator exited before enqueueing: ${stderr}`);
        assert.ok(Date.now() < end, `no job enqueued within 60 s: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
      copyFileSync(models[1], model);
      worker = await startWorker(url);
      const code = await exited;
      assert.equal(code, 1, stderr);
      const lines = stderr.trim().split('\n');
      const escaped = model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const refusal = `worker \\S+ refuses: ${escaped} here has sha256 ${other}…, the run's ${runs}…`;
      assert.match(
        lines.at(-1) ?? '',
        new RegExp(
          `^glimpse evaluate: (\\d+) of \\1 jobs failed .*: job 0 \\(clips 0\\.\\.\\d+\\)(, job \\d+ \\(clips [\\d.]+\\))*( and \\d+ more)?: ${refusal}$`,
        ),
      );
      // The first test's workers serve database 0 of the same Redis: they are not this run's.
      const counted = [...stderr.matchAll(/clips, (\d+) workers?/g)].map((m) => Number(m[1]));
      assert.ok(counted.length > 0 && counted.every((n) => n <= 1), `workers counted: ${counted.join(', ')}`);
      const jobs = Number(/(\d+) of \d+ jobs failed/.exec(lines.at(-1) ?? '')?.[1]);
      assert.ok(jobs >= 2, `several jobs (${jobs})`);
      // Each job is tried as often as the coordinator allows (3 times), then given up: not retried for ever.
      await new Promise((r) => setTimeout(r, 500));
      const refused = worker.log().match(new RegExp(`: failed: ${refusal}`, 'g')) ?? [];
      assert.equal(refused.length, jobs * 3, worker.log());
      assert.ok(!/: done → /.test(worker.log()), 'no job was run');
      assert.equal(worker.child.exitCode, null, 'the worker keeps running');
      assert.ok(!existsSync(out), 'no report is written');
      // The failed jobs leave the queue, so that running again (with the right checkpoint) retries them.
      const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed');
      assert.equal(
        Object.values(counts).reduce((a, b) => a + b, 0),
        0,
        JSON.stringify(counts),
      );
    } finally {
      child.kill('SIGKILL');
      await worker?.stop();
      await queue.close();
    }
  },
);
