/**
 * What a coordinator does whatever the job kind: holds the output's lock, enqueues the jobs a verified
 * shard does not already answer (so a restarted coordinator resumes), waits for them (BullMQ's events,
 * with a slower poll of the job states as a net under a Redis restart), re-runs a job whose shard fails
 * its check, reports progress with the workers seen, and leaves failures listed rather than stopping.
 */
import { createHash } from 'node:crypto';
import os from 'node:os';
import { Job, Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import { etaFrom, throwIfAborted, type Progress } from '../../common/progress.ts';
import {
  checkQueueServer,
  parseQueueUrl,
  QUEUE_NAME,
  queueConnection,
  type QueueTarget,
} from './connection.ts';
import { jobId, type QueueJobData } from './jobs.ts';
import { removeShard, shardName } from './shards.ts';

/** One worker as the coordinator last saw it: `alive` while its connection is open. */
export interface QueueWorker {
  id: string;
  host: string;
  alive: boolean;
}

/** The queue's part of a progress event (besides the common Progress). */
export interface QueueProgress {
  /** Units (videos or clips) whose jobs are complete, of all units of the run. */
  done: number;
  total: number;
  unit: 'videos' | 'clips';
  /** Units per second this run, null before the first job completes. */
  rate: number | null;
  etaSeconds: number | null;
  jobsDone: number;
  jobsTotal: number;
  failedJobs: number;
  workers: QueueWorker[];
}

export interface QueueRunHooks {
  signal?: AbortSignal;
  onProgress?: (progress: Progress, detail: QueueProgress) => void;
  /** One-line notices: resumed shards, stalled or failed jobs, bad shards being re-run. */
  log?: (line: string) => void;
}

export interface CoordinatorOptions {
  /** redis://HOST:PORT[/DB] */
  queue: string;
  /** Tries of a job before it counts as failed (default 3: a refusal by one worker can go to another). */
  attempts?: number;
  /** The output lock lapses this long after a coordinator stops renewing it (default 15 s). */
  lockTtlMs?: number;
}

/** A job failed for good: its number, the work it held and why (the worker's one line). */
export interface FailedJob {
  index: number;
  what: string;
  reason: string;
}

const JOBS_NAMED_PER_REASON = 3;
const REASONS_NAMED = 5;

/**
 * Jobs that failed for good, in one line: each distinct reason once, after the first jobs it hit (a thousand
 * jobs refused by one worker for one reason stay one short line).
 */
export function failedJobsLine(failed: readonly FailedJob[]): string {
  const byReason = new Map<string, FailedJob[]>();
  for (const f of failed) {
    const jobs = byReason.get(f.reason);
    if (jobs) jobs.push(f);
    else byReason.set(f.reason, [f]);
  }
  const parts = [...byReason].slice(0, REASONS_NAMED).map(([reason, jobs]) => {
    const named = jobs
      .slice(0, JOBS_NAMED_PER_REASON)
      .map((f) => `job ${f.index} (${f.what})`)
      .join(', ');
    const more =
      jobs.length > JOBS_NAMED_PER_REASON ? ` and ${jobs.length - JOBS_NAMED_PER_REASON} more` : '';
    return `${named}${more}: ${reason}`;
  });
  const others = byReason.size - REASONS_NAMED;
  return parts.join('; ') + (others > 0 ? `; ${others} other reasons` : '');
}

export interface PlannedJob<D extends QueueJobData> {
  data: D;
  /** Videos or clips the job covers (for progress). */
  units: number;
  /** What it holds, for messages. */
  what: string;
}

/** A shard check: the job's result when its shard is whole and matches the job, else the problem. */
export type ShardCheck<D, R> = (data: D) => Promise<{ ok: true; value: R } | { ok: false; problem: string }>;

/** A run's identity: the same output and settings give the same id, so a restart finds its jobs again. */
export function runIdOf(kind: string, output: string, settings: unknown): string {
  return `${kind}-${createHash('sha256')
    .update(JSON.stringify([output, settings]))
    .digest('hex')
    .slice(0, 16)}`;
}

/** The queue connection of a coordinator: checked first (fails fast), then BullMQ's own. */
export class QueueSession {
  readonly queue: Queue;
  private readonly client: Redis;

  private constructor(
    readonly target: QueueTarget,
    readonly opts: CoordinatorOptions,
  ) {
    this.client = queueConnection(target);
    this.queue = new Queue(QUEUE_NAME, { connection: this.client });
    this.queue.on('error', () => {});
  }

  static async open(opts: CoordinatorOptions): Promise<QueueSession> {
    const target = parseQueueUrl(opts.queue);
    await checkQueueServer(target);
    return new QueueSession(target, opts);
  }

  /**
   * Takes the output's lock (a Redis key with a lapse time, renewed while the run lasts); a second
   * coordinator on the same output is refused in one line. A lock left by a dead coordinator of this
   * host is taken over at once; one of another host lapses after lockTtlMs.
   */
  async lock(output: string, runId: string): Promise<{ release(): Promise<void> }> {
    const key = `glimpse:lock:${createHash('sha256').update(output).digest('hex').slice(0, 24)}`;
    const ttl = this.opts.lockTtlMs ?? 15_000;
    const mine = JSON.stringify({
      runId,
      host: os.hostname(),
      pid: process.pid,
      since: new Date().toISOString(),
    });
    const take = () => this.client.set(key, mine, 'PX', ttl, 'NX');
    if ((await take()) !== 'OK') {
      const held = await this.client.get(key);
      const holder = parseHolder(held);
      if (holder && holder.host === os.hostname() && !processAlive(holder.pid)) {
        await this.client.eval(DELETE_IF, 1, key, held ?? '');
      }
      if ((await take()) !== 'OK') {
        const who = holder ? `${holder.host} pid ${holder.pid}, since ${holder.since}` : 'unknown';
        throw new Error(
          `${output}: another coordinator is running on this output (${who}); wait for it to finish or stop it (its lock lapses ${Math.round(ttl / 1000)} s after it stops)`,
        );
      }
    }
    const timer = setInterval(() => {
      this.client.eval(RENEW_IF, 1, key, mine, String(ttl)).catch(() => {});
    }, ttl / 3);
    timer.unref();
    return {
      release: async () => {
        clearInterval(timer);
        await this.client.eval(DELETE_IF, 1, key, mine).catch(() => {});
      },
    };
  }

  /**
   * The workers connected to the queue now (BullMQ names each connection after its worker). Redis lists the
   * clients of every database: a queue of the same name on another database is another run's.
   */
  async workers(): Promise<string[]> {
    const clients = await this.queue.getWorkers();
    const names = clients
      .filter((c) => c.db === undefined || Number(c.db) === (this.target.options.db ?? 0))
      .map((c) => /:w:(.+)$/.exec(c.rawname ?? '')?.[1] ?? c.addr ?? '?');
    return [...new Set(names)].sort();
  }

  async close(): Promise<void> {
    await this.queue.close().catch(() => {});
    this.client.disconnect();
  }
}

const DELETE_IF = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end`;
const RENEW_IF = `if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('pexpire', KEYS[1], ARGV[2]) else return 0 end`;

function parseHolder(text: string | null): { host: string; pid: number; since: string } | null {
  try {
    const v = JSON.parse(text ?? '') as { host?: unknown; pid?: unknown; since?: unknown };
    return typeof v.host === 'string' && typeof v.pid === 'number'
      ? { host: v.host, pid: v.pid, since: String(v.since) }
      : null;
  } catch {
    return null;
  }
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Runs the planned jobs to the end: results in job order (null where a job failed for good) and the
 * failures. Jobs whose shard already checks out are not enqueued; jobs still queued from an earlier
 * coordinator are waited for, not added twice.
 */
export async function runJobs<D extends QueueJobData, R>(
  session: QueueSession,
  runId: string,
  planned: readonly PlannedJob<D>[],
  check: ShardCheck<D, R>,
  unit: QueueProgress['unit'],
  hooks: QueueRunHooks,
  onResult?: (index: number, value: R) => void,
): Promise<{ results: (R | null)[]; failed: FailedJob[]; resumedUnits: number }> {
  const log = hooks.log ?? (() => {});
  const { queue } = session;
  const results: (R | null)[] = planned.map(() => null);
  const failed = new Map<number, FailedJob>();
  const reruns = new Map<number, number>();
  const byId = new Map(planned.map((p, i) => [jobId(runId, p.data.index), i]));
  const outstanding = new Set<number>();
  const total = planned.reduce((n, p) => n + p.units, 0);
  let done = 0;
  let doneThisRun = 0;
  const started = performance.now();
  const seen = new Map<string, QueueWorker>();

  const accept = (i: number, value: R) => {
    results[i] = value;
    outstanding.delete(i);
    done += planned[i].units;
    onResult?.(i, value);
  };
  const add = async (i: number) => {
    const data = planned[i].data;
    await queue.add(data.kind, data, {
      jobId: jobId(runId, data.index),
      attempts: session.opts.attempts ?? 3,
      backoff: { type: 'fixed', delay: 500 },
      removeOnComplete: true,
      removeOnFail: false,
    });
    outstanding.add(i);
  };

  // Resume: complete shards count; jobs still in the queue are waited for; the rest are (re)added.
  for (const [i, p] of planned.entries()) {
    throwIfAborted(hooks.signal);
    const shard = await check(p.data);
    if (shard.ok) {
      accept(i, shard.value);
      continue;
    }
    const existing = await Job.fromId(queue, jobId(runId, p.data.index));
    const state = existing ? await existing.getState() : 'unknown';
    if (existing && (state === 'completed' || state === 'failed')) await existing.remove();
    if (existing && ['waiting', 'active', 'delayed', 'prioritized', 'waiting-children'].includes(state)) {
      outstanding.add(i);
    } else {
      if (!shard.problem.endsWith(': missing'))
        log(`job ${p.data.index}: ${shard.problem}; not merged, running the job again`);
      await removeShard(p.data.shardsDir, shardName(p.data.kind, p.data.index));
      await add(i);
    }
  }
  const resumedUnits = done;
  if (resumedUnits > 0)
    log(`resuming: ${results.filter(Boolean).length} of ${planned.length} jobs have complete shards`);

  // Settles job i from its result: a shard that checks out, or a re-run (at most twice), or a failure.
  const settle = async (i: number, outcome: { completed: true } | { completed: false; reason: string }) => {
    if (!outstanding.has(i)) return;
    const p = planned[i];
    if (!outcome.completed) {
      outstanding.delete(i);
      failed.set(i, { index: p.data.index, what: p.what, reason: outcome.reason });
      log(`job ${p.data.index} (${p.what}) failed: ${outcome.reason}`);
      return;
    }
    const shard = await check(p.data);
    if (shard.ok) {
      doneThisRun += p.units;
      accept(i, shard.value);
      return;
    }
    const n = (reruns.get(i) ?? 0) + 1;
    reruns.set(i, n);
    if (n > 2) {
      outstanding.delete(i);
      failed.set(i, {
        index: p.data.index,
        what: p.what,
        reason: `its shard failed the check ${n} times: ${shard.problem}`,
      });
      log(`job ${p.data.index} (${p.what}) failed: ${shard.problem}`);
      return;
    }
    log(`job ${p.data.index}: ${shard.problem}; not merged, running the job again`);
    await removeShard(p.data.shardsDir, shardName(p.data.kind, p.data.index));
    const stale = await Job.fromId(queue, jobId(runId, p.data.index));
    await stale?.remove().catch(() => {});
    await add(i);
  };

  const eventsClient = queueConnection(session.target);
  const events = new QueueEvents(QUEUE_NAME, { connection: eventsClient });
  events.on('error', () => {});
  const pending: Promise<void>[] = [];
  const onEvent = (id: string, outcome: Parameters<typeof settle>[1]) => {
    const i = byId.get(id);
    if (i !== undefined)
      pending.push(settle(i, outcome).catch((err) => log(`job ${planned[i].data.index}: ${String(err)}`)));
  };
  events.on('completed', ({ jobId: id }) => onEvent(id, { completed: true }));
  events.on('failed', ({ jobId: id, failedReason }) => {
    // 'failed' is also sent for a try that will be retried: only a job in the failed state has failed.
    const i = byId.get(id);
    if (i === undefined) return;
    void Job.fromId(queue, id)
      .then(async (job) => {
        if (job && (await job.getState()) === 'failed')
          onEvent(id, { completed: false, reason: failedReason });
      })
      .catch(() => {});
  });
  events.on('stalled', ({ jobId: id }) => {
    const i = byId.get(id);
    if (i !== undefined)
      log(`job ${planned[i].data.index}: its worker stopped answering; the job goes to another worker`);
  });

  const report = async () => {
    try {
      const now = await session.workers();
      for (const w of seen.values()) w.alive = now.includes(w.id);
      for (const id of now) seen.set(id, { id, host: id.replace(/:\d+$/, ''), alive: true });
    } catch {
      for (const w of seen.values()) w.alive = false;
    }
    const seconds = (performance.now() - started) / 1000;
    const rate = doneThisRun > 0 ? doneThisRun / seconds : null;
    const eta = etaFrom(total - done, rate);
    const workers = [...seen.values()];
    const detail: QueueProgress = {
      done,
      total,
      unit,
      rate,
      etaSeconds: eta,
      jobsDone: results.filter((r) => r !== null).length,
      jobsTotal: planned.length,
      failedJobs: failed.size,
      workers,
    };
    hooks.onProgress?.(
      {
        fraction: total > 0 ? done / total : 1,
        rate,
        rateUnit: `${unit}/s`,
        eta,
        message: `${done}/${total} ${unit}, ${plural(workers.filter((w) => w.alive).length, 'worker')}`,
      },
      detail,
    );
  };

  try {
    await events.waitUntilReady();
    let lastPoll = performance.now();
    while (outstanding.size > 0) {
      throwIfAborted(hooks.signal);
      await new Promise((r) => setTimeout(r, 250));
      await Promise.all(pending.splice(0));
      if (performance.now() - lastPoll > 3000) {
        // The net under missed events (a Redis restart, a coordinator that was away).
        lastPoll = performance.now();
        for (const i of [...outstanding]) {
          const job = await Job.fromId(queue, jobId(runId, planned[i].data.index));
          const state = job ? await job.getState() : 'gone';
          if (state === 'gone' || state === 'completed') await settle(i, { completed: true });
          else if (state === 'failed')
            await settle(i, { completed: false, reason: job?.failedReason ?? 'failed' });
        }
        await report();
      }
    }
    await report();
  } catch (err) {
    if (hooks.signal?.aborted) {
      // Cancelled: the run's waiting jobs leave the queue (running ones finish into shards a later run uses).
      for (const i of outstanding) {
        const job = await Job.fromId(queue, jobId(runId, planned[i].data.index));
        if (job && (await job.getState()) !== 'active') await job.remove().catch(() => {});
      }
    }
    throw err;
  } finally {
    await events.close().catch(() => {});
    eventsClient.disconnect();
  }
  // Failed jobs leave the queue, so that running again retries them.
  for (const f of failed.values()) {
    const job = await Job.fromId(queue, jobId(runId, f.index));
    await job?.remove().catch(() => {});
  }
  return { results, failed: [...failed.values()].sort((a, b) => a.index - b.index), resumedUnits };
}

function plural(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}
