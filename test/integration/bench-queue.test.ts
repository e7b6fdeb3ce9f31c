// `glimpse bench`'s queue section end to end on a small set: a real redis-server, 1 then 2 real
// `glimpse worker` processes; the JSON line carries both rates, their ratio and the overhead per job.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runGlimpse } from '../support/cli.ts';
import { HAVE_REDIS } from '../support/redis.ts';

interface QueueLine {
  name: string;
  frames: number;
  jobs: number;
  local_frames_per_s: number;
  workers: { workers: number; frames_per_s: number; seconds: number }[];
  scaling_2_over_1: number;
  overhead_per_job_ms: number;
  load_avg_1min: { before: number; after: number };
}

test(
  'bench --json adds the queue line: 1 and 2 workers, their ratio, the overhead per job',
  { skip: HAVE_REDIS ? false : 'redis-server is not on PATH' },
  () => {
    const r = runGlimpse([
      'bench',
      ...['--shape', 'small', '--batch', '2', '--iters', '1', '--workers', '1'],
      ...['--no-peer', '--no-extract', '--no-evaluate', '--no-convergence', '--no-compare'],
      ...['--queue-videos', '1', '--json'],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as QueueLine);
    const q = lines.find((l) => l.name === 'queue-extract');
    assert.ok(q, r.stdout);
    assert.equal(q.frames, 4 * 150);
    assert.ok(q.jobs >= 2, `4 videos in jobs of 2 make at least 2 jobs, got ${q.jobs}`);
    assert.deepEqual(
      q.workers.map((w) => w.workers),
      [1, 2],
    );
    for (const w of q.workers) {
      // frames/s is printed to 0.1 and seconds to 0.01: the product is the frame count within their rounding.
      const slack = 0.05 * w.seconds + 0.005 * w.frames_per_s + 1e-6;
      const product = w.frames_per_s * w.seconds;
      assert.ok(w.frames_per_s > 0, JSON.stringify(w));
      assert.ok(Math.abs(product - q.frames) <= slack, `${product} against ${q.frames} frames (±${slack})`);
    }
    const [one, two] = q.workers.map((w) => w.frames_per_s);
    const ratio = two / one;
    const ratioSlack = ratio * (0.05 / one + 0.05 / two) + 0.0005 + 1e-6;
    assert.ok(
      Math.abs(q.scaling_2_over_1 - ratio) <= ratioSlack,
      `${q.scaling_2_over_1} against ${ratio} (±${ratioSlack})`,
    );
    assert.ok(q.local_frames_per_s > 0 && Number.isFinite(q.overhead_per_job_ms));
  },
);
