/**
 * Training runs (the Train view): a run is the folder `runs/ID/` of the workspace holding `run.json`
 * (what was asked), the run log `model.log.jsonl`, the best model `model.h5`, every finished epoch's
 * `model.epoch-NNN.h5` and `model.resume.h5`. Each run trains as an engine 'train' job; the run's state
 * is its job's, so a run killed with the app comes back 'interrupted' and resumable. Curves follow the
 * log as the job writes it: each job event of a run reads what was appended and emits the new points.
 */
import { existsSync } from 'node:fs';
import { mkdir, open, readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import { writeFileAtomic, errorLine } from '../../model/atomic-file.ts';
import { DEFAULT_MODEL_OPTIONS, type ModelOptions, validateModelOptions } from '../../common/options.ts';
import { resumePath } from '../../model/train.ts';
import { epochPathFor, logPathFor, trainSettingsFrom } from '../workflows/training.ts';
import type {
  EngineEvent,
  GlimpseApi,
  JobInfo,
  JsonValue,
  RunCheckpoint,
  RunDetail,
  RunSpec,
  RunSummary,
} from './api.ts';
import { openDatasetDir } from './datasets.ts';
import { GlimpseError } from './errors.ts';
import { trainingSpecOf } from './job-tasks.ts';
import type { JobRunner } from './jobs.ts';
import { epochSummary, RunLogReader } from './run-log.ts';

const RUN_FILE = 'run.json';
const MODEL_FILE = 'model.h5';
const LIVE: ReadonlySet<string> = new Set(['queued', 'running']);

interface RunRecord {
  id: string;
  name: string;
  dataset: string;
  settings: { [key: string]: JsonValue };
  created: string;
  jobId: string | null;
}

interface Tail {
  reader: RunLogReader;
  offset: number;
  /** Points already sent in events. */
  sent: number;
  /** Reads of one log, one at a time. */
  busy: Promise<void>;
}

export type RunsApi = Pick<GlimpseApi, 'startRun' | 'listRuns' | 'getRun' | 'stopRun' | 'resumeRun'>;

function slug(name: string): string {
  const s = name
    .normalize('NFKD')
    .replace(/[^A-Za-z0-9_-]+/g, '-')
    .replace(/^[-_]+|-+$/g, '')
    .slice(0, 60);
  return s || 'run';
}

export class Runs {
  private readonly tails = new Map<string, Tail>();

  constructor(
    /** The workspace's `runs/` folder. */
    readonly dir: string,
    private readonly runner: () => JobRunner,
    private readonly emit: (event: EngineEvent) => void,
  ) {}

  api(): RunsApi {
    return {
      startRun: (spec) => this.start(spec),
      listRuns: () => this.list(),
      getRun: (id) => this.detail(id),
      stopRun: (id) => this.stop(id),
      resumeRun: (id) => this.resume(id),
    };
  }

  private get jobs(): JobRunner {
    return this.runner();
  }

  private folder(id: string): string {
    return path.join(this.dir, id);
  }

  private modelOf(id: string): string {
    return path.join(this.folder(id), MODEL_FILE);
  }

  /** Checks the settings against the dataset before anything is written, so a bad form is one clear error. */
  private async validate(dataset: string, settings: RunSpec['settings']): Promise<void> {
    const summary = await openDatasetDir(dataset);
    const spec = trainingSpecOf(dataset, path.join(this.dir, MODEL_FILE), settings, false);
    const trainName = spec.trainSplit ?? 'train';
    const trainSplit = summary.splits.find((s) => s.name === trainName);
    const names = summary.splits.map((s) => s.name).join(', ') || 'none';
    if (!trainSplit)
      throw new GlimpseError('not-found', `${dataset}: no split "${trainName}" (splits: ${names})`, dataset);
    if (spec.validSplit && !summary.splits.some((s) => s.name === spec.validSplit))
      throw new GlimpseError(
        'not-found',
        `${dataset}: no split "${spec.validSplit}" (splits: ${names})`,
        dataset,
      );
    try {
      const options: ModelOptions = {
        ...DEFAULT_MODEL_OPTIONS,
        ...spec.model,
        ctxDim: trainSplit.ctxDim,
        locations: trainSplit.locations,
        nActions: summary.classNames.length,
        multilabel: trainSplit.multilabel,
        dropout: 'inverted',
      };
      validateModelOptions(options);
      trainSettingsFrom(spec.settings ?? {}, spec.seed ?? 1234, options);
    } catch (err) {
      throw new GlimpseError('bad-request', `train: ${errorLine(err)}`);
    }
  }

  async start(spec: RunSpec): Promise<RunDetail> {
    const dataset = path.resolve(spec.dataset);
    await this.validate(dataset, spec.settings);
    const name = spec.name?.trim() || path.basename(dataset);
    const id = `${slug(name)}-${randomBytes(3).toString('hex')}`;
    const record: RunRecord = {
      id,
      name,
      dataset,
      settings: spec.settings,
      created: new Date().toISOString(),
      jobId: null,
    };
    try {
      await mkdir(this.folder(id), { recursive: true });
      await this.save(record);
    } catch (err) {
      throw new GlimpseError(
        'bad-file',
        `${this.dir}: cannot make the run folder (${errorLine(err)})`,
        this.dir,
      );
    }
    await this.startJob(record, false);
    return this.detail(id);
  }

  private async startJob(record: RunRecord, resume: boolean): Promise<JobInfo> {
    const job = await this.jobs.start({
      kind: 'train',
      dataset: record.dataset,
      out: this.modelOf(record.id),
      settings: record.settings,
      keepEpochs: true,
      ...(resume ? { resume: true } : {}),
    });
    record.jobId = job.id;
    await this.save(record);
    return job;
  }

  private save(record: RunRecord): Promise<void> {
    return writeFileAtomic(
      path.join(this.folder(record.id), RUN_FILE),
      JSON.stringify(record, null, 1) + '\n',
    );
  }

  private async record(id: string): Promise<RunRecord> {
    const file = path.join(this.folder(id), RUN_FILE);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch {
      throw new GlimpseError('not-found', `no training run ${id} in ${this.dir}`, file);
    }
    try {
      const record = JSON.parse(text) as RunRecord;
      if (typeof record.dataset !== 'string' || typeof record.settings !== 'object')
        throw new Error('fields missing');
      return { ...record, id };
    } catch (err) {
      throw new GlimpseError('bad-file', `${file}: not a run record (${errorLine(err)})`, file);
    }
  }

  /** The run's log read up to its end (incrementally: only what was appended since the last read). */
  private async readLog(id: string): Promise<Tail> {
    let tail = this.tails.get(id);
    if (!tail) {
      tail = { reader: new RunLogReader(), offset: 0, sent: 0, busy: Promise.resolve() };
      this.tails.set(id, tail);
    }
    const t = tail;
    const read = t.busy.then(async () => {
      const file = logPathFor(this.modelOf(id));
      if (!existsSync(file)) return;
      const handle = await open(file, 'r');
      try {
        const { size } = await handle.stat();
        if (size <= t.offset) return;
        const buffer = Buffer.alloc(size - t.offset);
        await handle.read(buffer, 0, buffer.length, t.offset);
        t.offset = size;
        t.sent = Math.min(t.sent, t.reader.feed(buffer.toString('utf8')));
      } finally {
        await handle.close();
      }
    });
    t.busy = read.catch(() => {});
    await read;
    return t;
  }

  private summaryOf(record: RunRecord, tail: Tail, latest?: JobInfo): RunSummary {
    const jobId = latest?.id ?? record.jobId;
    const job = latest ?? (jobId ? (this.jobs.list().find((j) => j.id === jobId) ?? null) : null);
    const log = tail.reader.state;
    const { epochsDone, bestEpoch, bestScore } = epochSummary(log.points);
    const model = this.modelOf(record.id);
    const state = job?.state ?? (log.done ? 'done' : 'interrupted');
    const epochs = log.epochs ?? (typeof record.settings.epochs === 'number' ? record.settings.epochs : 15);
    return {
      id: record.id,
      name: record.name,
      dataset: record.dataset,
      created: record.created,
      state,
      jobId,
      progress: job?.progress ?? null,
      error: job?.error ?? null,
      resumable: job ? job.resumable : !log.done && existsSync(resumePath(model)),
      epochs,
      epochsDone,
      metric: log.multilabel ? 'mAP' : 'accuracy',
      bestEpoch,
      bestScore,
      model,
    };
  }

  async summary(id: string): Promise<RunSummary> {
    const record = await this.record(id);
    return this.summaryOf(record, await this.readLog(id));
  }

  async detail(id: string): Promise<RunDetail> {
    const record = await this.record(id);
    const tail = await this.readLog(id);
    const summary = this.summaryOf(record, tail);
    const points = structuredClone(tail.reader.state.points);
    const checkpoints: RunCheckpoint[] = [];
    for (const p of points) {
      if (p.kind !== 'epoch') continue;
      const file = epochPathFor(summary.model, p.epoch);
      if (existsSync(file))
        checkpoints.push({
          epoch: p.epoch,
          path: file,
          validScore: p.validScore,
          best: p.epoch === summary.bestEpoch,
        });
    }
    return {
      ...summary,
      settings: record.settings,
      resolved: tail.reader.state.first,
      points,
      checkpoints,
      logPath: logPathFor(summary.model),
    };
  }

  /** Newest first; a folder without a readable run.json is skipped. */
  async list(): Promise<RunSummary[]> {
    const names = existsSync(this.dir) ? await readdir(this.dir) : [];
    const runs: RunSummary[] = [];
    for (const name of names) {
      if (!existsSync(path.join(this.dir, name, RUN_FILE))) continue;
      try {
        runs.push(await this.summary(name));
      } catch {
        // Not a run (or a damaged one): the list shows the others.
      }
    }
    return runs.sort((a, b) => b.created.localeCompare(a.created));
  }

  async stop(id: string): Promise<RunSummary> {
    const record = await this.record(id);
    const job = record.jobId ? this.jobs.list().find((j) => j.id === record.jobId) : undefined;
    if (job && LIVE.has(job.state)) await this.jobs.cancel(job.id);
    return this.summary(id);
  }

  async resume(id: string): Promise<RunSummary> {
    const record = await this.record(id);
    const model = this.modelOf(id);
    const job = record.jobId ? this.jobs.list().find((j) => j.id === record.jobId) : undefined;
    if (job && LIVE.has(job.state))
      throw new GlimpseError('busy', `${model}: run ${id} is already training (job ${job.id})`, model);
    if (job?.resumable) {
      await this.jobs.resume(job.id);
    } else {
      const tail = await this.readLog(id);
      if (tail.reader.state.done || job?.state === 'done')
        throw new GlimpseError('bad-request', `run ${id} has finished all its epochs`);
      // The job record is gone (history trimmed or unreadable): a new job continues the run's files.
      await this.startJob(record, true);
    }
    return this.summary(id);
  }

  /** A job event: for a run's train job, the points its log gained since the last event. */
  onJob(job: JobInfo): void {
    if (job.spec.kind !== 'train') return;
    const folder = path.dirname(job.spec.out);
    if (path.dirname(folder) !== this.dir || path.basename(job.spec.out) !== MODEL_FILE) return;
    const id = path.basename(folder);
    void (async () => {
      const record = await this.record(id);
      const tail = await this.readLog(id);
      const points = tail.reader.state.points;
      const from = tail.sent;
      tail.sent = points.length;
      this.emit({
        type: 'run',
        run: this.summaryOf(record, tail, job),
        from,
        points: structuredClone(points.slice(from)),
      });
    })().catch(() => {
      // A run folder removed by hand: the job event itself still reaches the renderer.
    });
  }
}
