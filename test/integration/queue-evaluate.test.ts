/**
 * `glimpse evaluate --queue` on a real redis-server with two real `glimpse worker` processes: the report
 * (with --compare: both models' reports and the paired statistics) is the same file, byte for byte, as
 * `glimpse evaluate` writes without a queue; the shard folder is gone afterwards.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { runGlimpse } from '../support/cli.ts';
import { startRedis, startWorker, type TestRedis, type TestWorker } from '../support/redis.ts';

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

test('a queued evaluation (with --compare) writes the report glimpse evaluate writes', async () => {
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
