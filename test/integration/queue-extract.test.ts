/**
 * `glimpse extract --queue` on a real redis-server with real `glimpse worker` processes: the same split
 * files as a single-machine extraction (file sha256 and rows via h5py) with a worker SIGKILLed mid-job,
 * and with Redis (its AOF on) restarted mid-run, which loses no job; a SIGKILLed coordinator resumes from
 * the complete shards (re-enqueuing only a shard cut short, which is not merged); a worker pinned to
 * another backbone refuses the job with the reason; SIGTERM returns a worker's job to the queue; two
 * coordinators on one output, a stopped Redis, a Redis older than 7 and an output folder that cannot be
 * written each give one line.
 */
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
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
import path from 'node:path';
import { after, before, test } from 'node:test';
import { REPO_ROOT, runGlimpse, runPython } from '../support/cli.ts';
import {
  freePort,
  HAVE_REDIS,
  startRedis,
  startWorker,
  stopProcess,
  type TestRedis,
  type TestWorker,
} from '../support/redis.ts';
import { BUILTIN_BACKBONE_DIR } from '../../main/features/backbone.ts';

const skip = HAVE_REDIS ? false : 'redis-server is not on PATH';
const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-queue-extract-'));
const videos = path.join(tmp, 'videos');
const baseline = path.join(tmp, 'baseline');
const SPLITS = ['train', 'valid', 'test'];
let redis: TestRedis;
const workers: TestWorker[] = [];
const started: TestWorker[] = [];
/** A worker remembered for the final clean-up, whatever a failing test leaves. */
async function worker(url: string, args: string[] = []): Promise<TestWorker> {
  const w = await startWorker(url, args);
  started.push(w);
  return w;
}

after(async () => {
  for (const w of started) await w.stop();
  await redis?.stop();
  rmSync(tmp, { recursive: true, force: true });
});

const extractArgs = (out: string, url: string, ...more: string[]) => [
  ...['extract', '--videos', videos, '--dataset-kind', 'synth', '--out', out],
  ...['--queue', url, '--videos-per-job', '1', ...more],
];

function fileHashes(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of SPLITS) {
    for (const f of [`${s}_features.h5`, `${s}_framenum.txt`, `${s}_labels.txt`, `${s}_filename.txt`]) {
      out[f] = createHash('sha256')
        .update(readFileSync(path.join(dir, f)))
        .digest('hex');
    }
  }
  return out;
}

/** Each split's `features` as h5py reads them: shape, dtype, sha256 of the rows. */
function featureDigests(dir: string): string {
  return runPython(
    `
import sys, json, hashlib, h5py
res = {}
for split in ${JSON.stringify(SPLITS)}:
    with h5py.File(f'{sys.argv[1]}/{split}_features.h5', 'r') as f:
        d = f['features']
        res[split] = f'{d.shape} {d.dtype} ' + hashlib.sha256(d[()].tobytes()).hexdigest()
print(json.dumps(res))
`,
    [dir],
  );
}

/** A coordinator as a child process; `done` resolves with its exit code and stderr. */
function coordinator(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/glimpse.js'), ...args], {
    env: { ...process.env, GLIMPSE_BACKEND: 'wasm' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (d: string) => (stderr += d));
  return { child, done: new Promise((resolve) => child.on('exit', (code) => resolve({ code, stderr }))) };
}

async function until(what: string, ok: () => boolean, timeoutMs = 60_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

const shardSidecars = (out: string) =>
  existsSync(path.join(out, '.queue'))
    ? readdirSync(path.join(out, '.queue')).filter((f) => /^extract-\d+\.json$/.test(f))
    : [];
const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';

before(async () => {
  if (skip) return;
  const made = runGlimpse([
    ...['synth', '--out', videos, '--seed', '21', '--classes', '2', '--videos', '4', '--frames', '48'],
  ]);
  assert.equal(made.code, 0, made.stderr);
  const [done, r] = await Promise.all([
    Promise.resolve(
      runGlimpse(['extract', '--videos', videos, '--dataset-kind', 'synth', '--out', baseline]),
    ),
    startRedis(),
  ]);
  assert.equal(done.code, 0, done.stderr);
  redis = r;
  workers.push(...(await Promise.all([worker(redis.url), worker(redis.url)])));
});

test(
  'a queued extraction with a worker SIGKILLed mid-job writes the single-machine files byte for byte',
  { skip },
  async () => {
    const out = path.join(tmp, 'killed-worker');
    const run = coordinator(extractArgs(out, redis.url));
    const victim = workers[0];
    await until('the first worker to take a job', () => /job \S+: extract/.test(victim.log()));
    victim.child.kill('SIGKILL');
    const { code, stderr } = await run.done;
    assert.equal(code, 0, stderr + victim.log());
    assert.match(stderr, /its worker stopped answering; the job goes to another worker/);
    assert.ok(!/: done → /.test(victim.log()), 'the killed worker finished no job');
    assert.match(stderr, /8\/8 videos, \d workers?/);
    assert.deepEqual(fileHashes(out), fileHashes(baseline));
    assert.equal(featureDigests(out), featureDigests(baseline));
    assert.ok(!existsSync(path.join(out, '.queue')), 'the shards are removed after the merge');
    const report = JSON.parse(readFileSync(path.join(out, 'extract-report.json'), 'utf8'));
    assert.equal(report.complete, true);
    workers.splice(0, 1, await worker(redis.url));
  },
);

test(
  'Redis restarted mid-run (AOF on) loses nothing: the run completes with the single-machine files',
  { skip },
  async () => {
    // Its own Redis, with persistence: the shared one has none, and a restart of it would lose its queue.
    const durable = await startRedis({ persistence: true });
    let w: TestWorker | undefined;
    try {
      // The default lock (30 s), as a lab runs it: a restart shorter than the lock leaves the running job its
      // worker's (the tests' 4 s lock could lapse while Redis is down, and the job would run twice).
      w = await worker(durable.url, ['--lock-ms', '30000']);
      const out = path.join(tmp, 'redis-restart');
      const run = coordinator(extractArgs(out, durable.url));
      const log = w.log;
      const doneLines = () => log().match(/: done → /g)?.length ?? 0;
      await until('the worker to take a job', () => /job \S+: extract/.test(log()));
      const doneAtStop = doneLines();
      // Down for a second: both the coordinator's and the worker's connections see it go and come back.
      await durable.restart(1000);
      assert.ok(existsSync(path.join(durable.dir, 'appendonlydir')), 'the restarted Redis has its AOF');
      const { code, stderr } = await run.done;
      assert.equal(code, 0, stderr + w.log());
      assert.ok(doneAtStop < 8, `the restart came mid-run (${doneAtStop} of 8 jobs were done)`);
      // Lost jobs would show here: a job gone from the queue without its shard is added again.
      assert.doesNotMatch(stderr, /running the job again|stopped answering/);
      assert.equal(doneLines(), 8, 'each job ran once');
      assert.match(stderr, /8\/8 videos, 1 worker\b/);
      assert.equal(w.child.exitCode, null, 'the worker is still running');
      assert.deepEqual(fileHashes(out), fileHashes(baseline));
      assert.equal(featureDigests(out), featureDigests(baseline));
    } finally {
      await w?.stop();
      await durable.stop();
    }
    assert.ok(!existsSync(durable.dir), 'no AOF files are left behind');
  },
);

test(
  'a SIGKILLed coordinator resumes from the complete shards; a shard cut short is not merged but redone',
  { skip },
  async () => {
    const out = path.join(tmp, 'killed-coordinator');
    const first = coordinator(extractArgs(out, redis.url));
    await until('a first shard', () => shardSidecars(out).length >= 1);
    first.child.kill('SIGKILL');
    await first.done;
    // The workers finish the jobs already queued, with no coordinator.
    const doneLines = () =>
      workers
        .flatMap((w) => w.log().split('\n'))
        .filter((l) => l.includes(`: done → ${out}/.queue/extract-`));
    await until('every queued job done', () => new Set(doneLines()).size === 8);
    const doneBefore = doneLines().length;
    const third = () => doneLines().filter((l) => l.endsWith('extract-000003.json')).length;
    const thirdBefore = third();
    truncateSync(path.join(out, '.queue', 'extract-000003.bin'), 100);

    const second = coordinator(extractArgs(out, redis.url));
    const { code, stderr } = await second.done;
    assert.equal(code, 0, stderr);
    assert.match(stderr, /resuming: 7 of 8 jobs have complete shards/);
    assert.match(
      stderr,
      /job 3: .*extract-000003\.bin: truncated or overlong \(100 bytes, its sidecar says \d+\); not merged, running the job again/,
    );
    // Worker logs are read worker by worker: count, not order, tells which job ran again.
    assert.equal(doneLines().length, doneBefore + 1, 'only one job ran again');
    assert.equal(third(), thirdBefore + 1, 'the job that ran again is the bad shard’s');
    assert.deepEqual(fileHashes(out), fileHashes(baseline));
  },
);

test('two coordinators on one output: the second refuses in one line', { skip }, async () => {
  const out = path.join(tmp, 'two');
  // On a database no worker serves, so the first coordinator keeps waiting.
  const url = `${redis.url}/3`;
  const first = coordinator(extractArgs(out, url));
  await until('the first coordinator to enqueue', () => existsSync(path.join(out, 'dataset.json')));
  const second = runGlimpse(extractArgs(out, url));
  assert.equal(second.code, 1);
  assert.match(
    lastLine(second.stderr),
    new RegExp(
      `^glimpse extract: ${out}: another coordinator is running on this output \\(\\S+ pid ${first.child.pid}, since `,
    ),
  );
  await stopProcess(first.child);
});

test(
  'a worker pinned to another backbone refuses the job with the reason; SIGTERM stops a worker cleanly',
  { skip },
  async () => {
    for (const w of workers.splice(0)) {
      // A worker an earlier test killed (and failed before taking off the list) has nothing left to stop.
      if (w.child.exitCode !== null || w.child.signalCode !== null) continue;
      const exited = new Promise<number | null>((r) => w.child.once('exit', (code) => r(code)));
      await w.stop();
      assert.equal(await exited, 0);
      assert.match(w.log(), /worker stopped\n$/);
    }
    // The built-in backbone with one weight changed: same shape, other features.
    const other = path.join(tmp, 'other-backbone');
    cpSync(BUILTIN_BACKBONE_DIR, other, { recursive: true });
    const weights = readFileSync(path.join(other, 'weights.bin'));
    weights.writeFloatLE(weights.readFloatLE(0) + 0.5, 0);
    writeFileSync(path.join(other, 'weights.bin'), weights);
    const url = `${redis.url}/4`;
    workers.push(await worker(url, ['--backbone', other]));
    const r = runGlimpse(extractArgs(path.join(tmp, 'refused'), url, '--videos-per-job', '8'));
    assert.equal(r.code, 1);
    const line = lastLine(r.stderr);
    assert.match(
      line,
      /^glimpse extract: 3 of 3 jobs failed, nothing merged .*refuses: its backbone .*other-backbone differs from the run's builtin \(model\.json [0-9a-f]{12}…/,
    );
  },
);

test('bad queues and outputs: one line each, nothing enqueued', { skip }, async () => {
  const port = await freePort();
  const dead = runGlimpse(extractArgs(path.join(tmp, 'dead'), `redis://127.0.0.1:${port}`));
  assert.equal(dead.code, 1);
  assert.match(
    lastLine(dead.stderr),
    new RegExp(`^glimpse extract: redis://127\\.0\\.0\\.1:${port}: does not answer \\(.*ECONNREFUSED`),
  );
  const deadWorker = runGlimpse(['worker', '--queue', `redis://127.0.0.1:${port}`]);
  assert.equal(deadWorker.code, 1);
  assert.match(lastLine(deadWorker.stderr), /^glimpse worker: redis:\/\/127\.0\.0\.1:\d+: does not answer/);
  assert.match(
    lastLine(runGlimpse(extractArgs(path.join(tmp, 'x'), 'http://h:1')).stderr),
    /not a redis:\/\/ URL/,
  );

  // A server that says it is Redis 6.2 (in a child process: runGlimpse blocks this one's event loop).
  const fake = spawn(
    process.execPath,
    [
      '-e',
      `const net = require('node:net');
const body = '# Server\\r\\nredis_version:6.2.6\\r\\nloading:0\\r\\n';
const server = net.createServer((socket) => socket.on('data', (d) => {
  for (const cmd of d.toString().split(/(?=\\*\\d+\\r\\n)/).filter(Boolean))
    socket.write(/info/i.test(cmd) ? '$' + body.length + '\\r\\n' + body + '\\r\\n' : '+OK\\r\\n');
}));
server.listen(0, '127.0.0.1', () => console.log(server.address().port));`,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const oldPort = await new Promise<number>((resolve) =>
    fake.stdout?.once('data', (d: Buffer) => resolve(Number(d.toString()))),
  );
  const tooOld = runGlimpse(extractArgs(path.join(tmp, 'old'), `redis://127.0.0.1:${oldPort}`));
  await stopProcess(fake);
  assert.equal(tooOld.code, 1);
  assert.match(lastLine(tooOld.stderr), /Redis 6\.2\.6 is too old \(the queue needs Redis ≥ 7\)/);

  // An output below a file cannot be made: refused before anything is enqueued.
  writeFileSync(path.join(tmp, 'a-file'), 'x');
  const blocked = runGlimpse(extractArgs(path.join(tmp, 'a-file', 'out'), redis.url));
  assert.equal(blocked.code, 1);
  assert.match(
    lastLine(blocked.stderr),
    /a-file\/out\/\.queue: the output folder is not writable \(ENOTDIR\)/,
  );

  // A Redis that stops: the next run says so in one line.
  await redis.stop();
  const stopped = runGlimpse(extractArgs(path.join(tmp, 'stopped'), redis.url));
  assert.equal(stopped.code, 1);
  assert.match(lastLine(stopped.stderr), /^glimpse extract: redis:\/\/127\.0\.0\.1:\d+: does not answer/);
});
