/**
 * Full-split evaluations kept in the workspace (`cache/evaluate/KEY.json`), keyed by the model hash(es),
 * the split's features (content of its small files, size and time of its HDF5 file: hashing 60 GB each
 * time would take minutes) and the settings asked for, so reopening an Evaluate address is a file read.
 * The job (kind 'evaluate') runs in a task thread: runEvaluation on the worker pool, then the kept report.
 */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { rm } from 'node:fs/promises';
import type { Progress } from '../../common/progress.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { openSplit, splitFiles } from '../../model/data/split.ts';
import { runEvaluation, type EvaluationReport } from '../workflows/evaluation.ts';
import type {
  EvaluationOutcome,
  EvaluationReportData,
  EvaluationRequest,
  GlimpseApi,
  JobInfo,
  JobSpec,
  JsonValue,
  QueueJobStatus,
} from './api.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';
import { modelHash, openModelFile } from './models.ts';
import { evaluationShardsDir, queuedEvaluation } from './queue-jobs.ts';

const KEY_VERSION = 1;

async function splitStamp(dir: string, split: string): Promise<string> {
  const files = splitFiles(dir, split);
  const digest = createHash('sha256');
  for (const file of [files.framenum, files.labels, files.filename, path.join(dir, 'classes.txt')])
    digest.update(existsSync(file) ? await readFile(file) : '-').update('|');
  const h5 = await aboutFile(files.features, () => stat(files.features));
  digest.update(`${h5.size}|${h5.mtimeMs}`);
  return digest.digest('hex');
}

/** The kept report's key: what the numbers depend on. */
export async function evaluationKey(request: EvaluationRequest): Promise<string> {
  const models = await Promise.all(
    [request.model, request.compare].map((m) => (m ? aboutFile(m, () => modelHash(m)) : '-')),
  );
  const features = await splitStamp(request.dataset, request.split);
  return createHash('sha256')
    .update(
      `v${KEY_VERSION}|${models.join('|')}|${features}|${request.split}|${request.stride ?? 1}|${request.lastN ?? 'model'}`,
    )
    .digest('hex')
    .slice(0, 40);
}

/** What the renderer gets: the report without per-clip entries (a full UCF-11 run has 300,000 of them). */
export function reportData(report: EvaluationReport): EvaluationReportData {
  const { comparison, ...own } = report;
  const data = JSON.parse(
    JSON.stringify({ ...own, videos: own.videos.map(({ clips, ...v }) => ({ ...v, clips: clips.length })) }),
  ) as EvaluationReportData;
  if (comparison) data.comparison = { report: reportData(comparison.report), paired: comparison.paired };
  return data;
}

/**
 * Refuses, before a job starts, a model that cannot read the split: another feature width, number of
 * locations, class count or label kind ('mismatch', naming both files).
 */
export async function checkModelFitsSplit(model: string, dataset: string, split: string): Promise<void> {
  const { checkpoint } = await openModelFile(model);
  const features = splitFiles(dataset, split).features;
  const data = await aboutFile(features, async () => {
    using s = await openSplit(dataset, split);
    return { L: s.L, D: s.D, classes: s.classNames.length, multilabel: s.multilabel };
  });
  const o = checkpoint.options;
  const problems: string[] = [];
  if (o.ctxDim !== data.D) problems.push(`feature width D=${o.ctxDim} against the split's D=${data.D}`);
  if (o.locations !== data.L) problems.push(`L=${o.locations} locations against ${data.L}`);
  if (data.classes > 0 && o.nActions !== data.classes)
    problems.push(`${o.nActions} classes against the dataset's ${data.classes}`);
  if (o.multilabel !== data.multilabel)
    problems.push(
      o.multilabel ? 'a multi-label model on single-label data' : 'a single-label model on multi-label data',
    );
  if (problems.length > 0)
    throw new GlimpseError('mismatch', `${model}: does not fit ${features}: ${problems.join(', ')}`, model);
}

export interface EvaluateTaskContext {
  id: string;
  exportsDir: string;
  evaluationsDir: string;
}

/**
 * The 'evaluate' job in its task thread: the report in the exports folder and kept under its key. With
 * `queue`, the clips go to the queue's workers (shards in the dataset, removed once the report is made).
 */
export async function runEvaluateTask(
  spec: Extract<JobSpec, { kind: 'evaluate' }>,
  context: EvaluateTaskContext,
  hooks: { signal?: AbortSignal; onProgress: (p: Progress, queue?: QueueJobStatus) => void },
): Promise<{ [key: string]: JsonValue }> {
  const request: EvaluationRequest = {
    model: spec.model,
    compare: spec.compare,
    dataset: spec.dataset,
    split: spec.split,
    stride: spec.stride,
    lastN: spec.lastN,
  };
  const key = await evaluationKey(request);
  const { queue } = spec;
  const shardsDir = evaluationShardsDir(spec.dataset, key);
  const report = await aboutFile(spec.model, () =>
    queue !== undefined
      ? queuedEvaluation(request, queue, shardsDir, hooks.signal, hooks.onProgress)
      : runEvaluation(request, hooks),
  );
  if (queue !== undefined) await rm(shardsDir, { recursive: true, force: true });
  const out = path.join(context.exportsDir, `evaluate-${spec.split}-${context.id}.json`);
  await mkdir(context.exportsDir, { recursive: true });
  await writeFileAtomic(out, JSON.stringify(report));
  await mkdir(context.evaluationsDir, { recursive: true });
  await writeFileAtomic(path.join(context.evaluationsDir, `${key}.json`), JSON.stringify(reportData(report)));
  return { path: out, key, metrics: JSON.parse(JSON.stringify(report.metrics)) as JsonValue };
}

function sameRequest(a: EvaluationRequest, spec: JobSpec): boolean {
  return (
    spec.kind === 'evaluate' &&
    spec.model === a.model &&
    spec.compare === a.compare &&
    spec.dataset === a.dataset &&
    spec.split === a.split &&
    (spec.stride ?? 1) === (a.stride ?? 1) &&
    spec.lastN === a.lastN
  );
}

/** The API side: a kept report, or the job computing it. */
export class Evaluations {
  constructor(
    readonly dir: string,
    private readonly activeJobs: () => JobInfo[],
  ) {}

  async get(request: EvaluationRequest): Promise<EvaluationOutcome> {
    const abs = {
      ...request,
      model: path.resolve(request.model),
      dataset: path.resolve(request.dataset),
      ...(request.compare ? { compare: path.resolve(request.compare) } : {}),
    };
    for (const file of [abs.model, abs.dataset, ...(abs.compare ? [abs.compare] : [])])
      if (!existsSync(file)) throw new GlimpseError('not-found', `${file}: file not found`, file);
    const key = await evaluationKey(abs);
    const file = path.join(this.dir, `${key}.json`);
    if (existsSync(file)) {
      try {
        return {
          status: 'ready',
          key,
          report: JSON.parse(await readFile(file, 'utf8')) as EvaluationReportData,
        };
      } catch {
        // A damaged kept report is computed again.
      }
    }
    const job = this.activeJobs().find(
      (j) => (j.state === 'queued' || j.state === 'running') && sameRequest(abs, j.spec),
    );
    return { status: 'none', key, job: job ?? null };
  }

  api(): Pick<GlimpseApi, 'evaluation'> {
    return { evaluation: (request) => this.get(request) };
  }
}
