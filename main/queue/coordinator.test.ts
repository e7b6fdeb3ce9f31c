import assert from 'node:assert/strict';
import { test } from 'node:test';
import { failedJobsLine, type FailedJob } from './coordinator.ts';

const job = (index: number, reason: string): FailedJob => ({
  index,
  what: `clips ${index * 8}..${index * 8 + 7}`,
  reason,
});

test('failed jobs: one reason is written once, after the first three jobs it hit', () => {
  const refused = 'worker h:1 refuses: /m.h5 here has sha256 aaaa…, the run’s bbbb…';
  const line = failedJobsLine(Array.from({ length: 1000 }, (_, i) => job(i, refused)));
  assert.equal(
    line,
    `job 0 (clips 0..7), job 1 (clips 8..15), job 2 (clips 16..23) and 997 more: ${refused}`,
  );
});

test('failed jobs: distinct reasons each get their jobs, in the order met; past five they are counted', () => {
  assert.equal(
    failedJobsLine([job(0, 'a'), job(1, 'b'), job(2, 'a')]),
    'job 0 (clips 0..7), job 2 (clips 16..23): a; job 1 (clips 8..15): b',
  );
  const line = failedJobsLine(Array.from({ length: 8 }, (_, i) => job(i, `reason ${i}`)));
  assert.match(
    line,
    /^job 0 \(clips 0\.\.7\): reason 0; .*job 4 \(clips 32\.\.39\): reason 4; 3 other reasons$/,
  );
});
