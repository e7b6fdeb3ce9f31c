/**
 * The job runner: a queue (two jobs at a time: the machine has few cores), one task thread per running
 * job, progress throttled to a few events per second, cancel, resume, and the history kept in the
 * workspace. Jobs found 'running' or 'queued' at start-up were cut off by a crash or a close: they become
 * 'interrupted', and resumable where the work resumes (extraction, training, the demo, and a queued
 * evaluation, whose coordinator picks up the complete shards).
 */
import { randomUUID } from 'node:crypto';
import type { Progress } from '../../common/progress.ts';
import type { GlimpseErrorData, JobInfo, JobKind, JobSpec, JsonValue, QueueJobStatus } from './api.ts';
import { GlimpseError, toErrorData } from './errors.ts';
import type { JobContext, TaskResult } from './task-protocol.ts';
import { TaskThread } from './task-thread.ts';
import type { Workspace } from './workspace.ts';

const MAX_RUNNING = 2;
const PROGRESS_INTERVAL_MS = 250;
const SAVE_INTERVAL_MS = 5000;
const RESERVE_DELAY_MS = 1000;

/** Kinds whose work continues where it stopped when run again. */
const RESUMES: ReadonlySet<JobKind> = new Set<JobKind>(['extract', 'train', 'demo']);

function resumes(spec: JobSpec): boolean {
  return RESUMES.has(spec.kind) || (spec.kind === 'evaluate' && spec.queue !== undefined);
}

export interface JobHooksForRunner {
  /** Plans the job (paths, inspect plan, source video); throws GlimpseErrors for bad specs. */
  prepare(
    spec: JobSpec,
    id: string,
    resume: boolean,
  ): Promise<{ context: JobContext; output: string | null }>;
  /** Turns a finished job's result into what the API returns (e.g. adds the URLs of written files). */
  finish(spec: JobSpec, result: TaskResult): { [key: string]: JsonValue };
  emit(job: JobInfo): void;
}

function titleOf(spec: JobSpec): string {
  switch (spec.kind) {
    case 'extract':
      return `Extract features of ${spec.videosDir}`;
    case 'train':
      return `Train ${spec.out}`;
    case 'evaluate':
      return `Evaluate ${spec.model} on ${spec.split}`;
    case 'inspect':
      return `Inspect ${spec.request.source.kind === 'video' ? spec.request.source.path : spec.request.source.dir}`;
    case 'export-filmstrip':
      return 'Export filmstrip';
    case 'export-video':
      return `Export ${spec.format.toUpperCase()} with overlay`;
    case 'export-npz':
      return `Export ${spec.out}`;
    case 'demo':
      return 'Make the demo';
    case 'import':
      return `Import ${spec.features} as ${spec.split}`;
  }
}

interface Live {
  thread: TaskThread | null;
  context: JobContext;
  output: string | null;
  lastEmit: number;
  pendingEmit: NodeJS.Timeout | null;
}

export class JobRunner {
  private readonly jobs: JobInfo[];
  private readonly live = new Map<string, Live>();
  private readonly queue: string[] = [];
  private closed = false;
  private lastSave = 0;
  /** A booted thread kept in reserve: a job starts without waiting seconds for TypeScript and tfjs to load. */
  private spare: TaskThread | null = null;
  private reserveTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly workspace: Workspace,
    private readonly backend: string,
    private readonly hooks: JobHooksForRunner,
  ) {
    this.jobs = workspace
      .jobs()
      .map((job) =>
        job.state === 'running' || job.state === 'queued'
          ? { ...job, state: 'interrupted', resumable: resumes(job.spec), finished: job.finished ?? null }
          : job,
      );
  }

  /** Saves the start-up state (interrupted jobs) and, a moment later, boots the reserve thread. */
  async init(): Promise<void> {
    await this.save();
    // Not at once: the first API calls after start-up should not share the CPU with a booting thread.
    this.reserveTimer = setTimeout(() => this.reserve(), RESERVE_DELAY_MS);
    this.reserveTimer.unref();
  }

  list(): JobInfo[] {
    return structuredClone(this.jobs);
  }

  get(id: string): JobInfo {
    const job = this.jobs.find((j) => j.id === id);
    if (!job) throw new GlimpseError('not-found', `no job ${id}`);
    return job;
  }

  /** The active job (queued or running) that writes `output`, if any. */
  activeWriting(output: string): JobInfo | null {
    for (const [id, live] of this.live) if (live.output === output) return this.get(id);
    return null;
  }

  async start(spec: JobSpec): Promise<JobInfo> {
    const id = randomUUID().slice(0, 12);
    const { context, output } = await this.hooks.prepare(spec, id, false);
    this.checkFree(output);
    const job: JobInfo = {
      id,
      kind: spec.kind,
      title: titleOf(spec),
      spec,
      state: 'queued',
      progress: null,
      created: new Date().toISOString(),
      started: null,
      finished: null,
      error: null,
      result: null,
      resumable: false,
    };
    this.jobs.push(job);
    this.enqueue(job, context, output);
    return structuredClone(job);
  }

  async resume(id: string): Promise<JobInfo> {
    const job = this.get(id);
    if (!job.resumable || this.live.has(id))
      throw new GlimpseError('bad-request', `job ${id} (${job.state}) cannot be resumed`);
    const { context, output } = await this.hooks.prepare(job.spec, id, true);
    this.checkFree(output);
    Object.assign(job, { state: 'queued', error: null, finished: null, resumable: false });
    this.enqueue(job, context, output);
    return structuredClone(job);
  }

  async cancel(id: string): Promise<JobInfo> {
    const job = this.get(id);
    const live = this.live.get(id);
    if (!live) return structuredClone(job);
    if (live.thread) {
      live.thread.cancel();
    } else {
      this.queue.splice(this.queue.indexOf(id), 1);
      this.settle(job, 'cancelled', { code: 'cancelled', message: 'cancelled before it started' });
    }
    return structuredClone(job);
  }

  /** Stops every running job's thread; they are kept as 'interrupted' (resumable where the work resumes). */
  async close(): Promise<void> {
    this.closed = true;
    if (this.reserveTimer) clearTimeout(this.reserveTimer);
    const threads: Promise<void>[] = [];
    for (const [id, live] of this.live) {
      const job = this.get(id);
      job.state = 'interrupted';
      job.resumable = resumes(job.spec);
      job.finished = new Date().toISOString();
      if (live.pendingEmit) clearTimeout(live.pendingEmit);
      if (live.thread) threads.push(live.thread.stop());
    }
    this.live.clear();
    this.queue.length = 0;
    if (this.spare) threads.push(this.spare.end());
    this.spare = null;
    await Promise.all(threads);
    await this.save();
  }

  private checkFree(output: string | null): void {
    if (output === null) return;
    const other = this.activeWriting(output);
    if (other)
      throw new GlimpseError(
        'busy',
        `${output}: job ${other.id} (${other.title}) is already writing it`,
        output,
      );
  }

  private enqueue(job: JobInfo, context: JobContext, output: string | null): void {
    this.live.set(job.id, { thread: null, context, output, lastEmit: 0, pendingEmit: null });
    this.queue.push(job.id);
    this.changed(job);
    this.pump();
  }

  private pump(): void {
    while (!this.closed && this.queue.length > 0 && this.runningCount() < MAX_RUNNING) {
      const id = this.queue.shift() as string;
      void this.run(this.get(id));
    }
  }

  private runningCount(): number {
    let n = 0;
    for (const live of this.live.values()) if (live.thread) n++;
    return n;
  }

  private async run(job: JobInfo): Promise<void> {
    const live = this.live.get(job.id);
    if (!live) return;
    const thread = this.takeThread();
    live.thread = thread;
    job.state = 'running';
    job.started = new Date().toISOString();
    this.changed(job);
    try {
      const result = await thread.run({ kind: 'job', spec: job.spec, context: live.context }, (p, queue) =>
        this.progress(job, p, queue),
      );
      if (this.closed) return;
      job.result = this.hooks.finish(job.spec, result);
      job.progress = {
        ...(job.progress ?? { rate: null, rateUnit: '', eta: null }),
        fraction: 1,
        eta: 0,
        message: 'done',
      };
      this.settle(job, 'done', null);
    } catch (err) {
      if (this.closed) return;
      const error = toErrorData(err);
      this.settle(job, error.code === 'cancelled' ? 'cancelled' : 'failed', error);
    } finally {
      await thread.end();
    }
  }

  private takeThread(): TaskThread {
    const thread = this.spare?.alive ? this.spare : new TaskThread(this.backend);
    this.spare = null;
    this.reserve();
    return thread;
  }

  /** Boots the reserve thread (after start-up, and each time a job takes it). */
  private reserve(): void {
    if (!this.closed && !this.spare) this.spare = new TaskThread(this.backend);
  }

  private settle(job: JobInfo, state: JobInfo['state'], error: GlimpseErrorData | null): void {
    const live = this.live.get(job.id);
    if (live?.pendingEmit) clearTimeout(live.pendingEmit);
    this.live.delete(job.id);
    job.state = state;
    job.error = error;
    job.finished = new Date().toISOString();
    job.resumable = (state === 'cancelled' || state === 'failed') && resumes(job.spec);
    this.changed(job);
    this.pump();
  }

  /** Keeps the latest progress; emits at most every PROGRESS_INTERVAL_MS (the last one is never lost). */
  private progress(job: JobInfo, p: Progress, queue?: QueueJobStatus): void {
    job.progress = p;
    if (queue) job.queue = queue;
    const live = this.live.get(job.id);
    if (!live || live.pendingEmit) return;
    const wait = live.lastEmit + PROGRESS_INTERVAL_MS - Date.now();
    const send = () => {
      live.pendingEmit = null;
      live.lastEmit = Date.now();
      if (this.live.has(job.id)) this.hooks.emit(structuredClone(job));
      if (Date.now() - this.lastSave > SAVE_INTERVAL_MS) void this.save();
    };
    if (wait <= 0) send();
    else live.pendingEmit = setTimeout(send, wait);
  }

  private changed(job: JobInfo): void {
    this.hooks.emit(structuredClone(job));
    void this.save();
  }

  private save(): Promise<void> {
    this.lastSave = Date.now();
    return this.workspace.saveJobs(this.jobs).catch(() => {
      // The workspace reports the failure on the next call that needs it; the jobs keep running.
    });
  }
}
