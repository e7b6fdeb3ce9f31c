/**
 * Evaluation over the queue: the coordinator's side of `glimpse evaluate --queue`. The split's clips (in
 * clipsOf order) go out in jobs of whole clip batches, so every worker runs the very batches a
 * single-machine run makes; the workers' clip outcomes come back through shards and are assembled by
 * assembleResults inside runEvaluation, the code `glimpse evaluate` runs: the report is the same.
 *
 * API (for the CLI and the engine):
 *   runQueuedEvaluation(spec, opts, { signal, onProgress, log }) → Promise<EvaluationReport>
 * `spec` is runEvaluation's EvaluationSpec (compare, boxes, steps included); onProgress as for
 * runQueuedExtraction, in clips. The report's backend is the workers' (they must agree).
 */
import { mkdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { assembleResults, clipsOf, type ClipOutcome, type EvaluationResult } from '../../model/evaluate.ts';
import { modelHash } from '../engine/models.ts';
import { runEvaluation, type EvaluationReport, type EvaluationSpec } from '../workflows/evaluation.ts';
import { GLIMPSE_VERSION } from './connection.ts';
import {
  failedJobsLine,
  QueueSession,
  runIdOf,
  runJobs,
  type CoordinatorOptions,
  type PlannedJob,
  type QueueRunHooks,
} from './coordinator.ts';
import { QueueJobsFailed } from './extraction.ts';
import type { EvaluateJobData, EvaluationShard } from './jobs.ts';
import { readShard, shardName } from './shards.ts';

export interface QueuedEvaluationOptions extends CoordinatorOptions {
  /** Folder for the shards, on storage every worker sees (default: `<out>.queue` beside the report). */
  shardsDir: string;
  /** Clip batches per job (default 8). */
  batchesPerJob?: number;
}

export async function runQueuedEvaluation(
  spec: EvaluationSpec,
  opts: QueuedEvaluationOptions,
  hooks: QueueRunHooks = {},
): Promise<EvaluationReport> {
  const shardsDir = path.resolve(opts.shardsDir);
  await mkdir(shardsDir, { recursive: true }).catch((err: NodeJS.ErrnoException) => {
    throw new Error(`${shardsDir}: cannot make the shard folder (${err.code ?? err.message})`);
  });
  const session = await QueueSession.open(opts);
  const backends = new Set<string>();
  try {
    const report = await runEvaluation(spec, {
      signal: hooks.signal,
      evaluateSplit: async (modelPath, model, split, settings): Promise<EvaluationResult> => {
        const sha256 = await modelHash(modelPath);
        const jobSettings = {
          maxlen: settings.maxlen,
          stride: settings.stride,
          lastN: settings.lastN,
          batchSize: settings.batchSize,
          keepSteps: settings.keepSteps,
          attention: settings.attention ?? false,
        };
        const common = {
          model: { path: path.resolve(modelPath), sha256, multilabel: model.options.multilabel },
          dataset: path.resolve(split.dir),
          split: split.split,
          settings: jobSettings,
        };
        const runId = runIdOf('evaluate', shardsDir, common);
        const lock = await session.lock(`${shardsDir}#${runId}`, runId);
        try {
          const clips = clipsOf(split, settings).length;
          const perJob = settings.batchSize * (opts.batchesPerJob ?? 8);
          const planned: PlannedJob<EvaluateJobData>[] = [];
          for (let first = 0; first < clips; first += perJob) {
            const end = Math.min(clips, first + perJob);
            planned.push({
              data: {
                ...common,
                kind: 'evaluate',
                runId,
                index: planned.length,
                shardsDir,
                glimpseVersion: GLIMPSE_VERSION,
                first,
                end,
              },
              units: end - first,
              what: `clips ${first}..${end - 1}`,
            });
          }
          const check = async (data: EvaluateJobData) => {
            const shard = await readShard<{ first: number; end: number; modelSha256: string }>(
              data.shardsDir,
              shardName('evaluate', data.index),
              { runId: data.runId, index: data.index, kind: 'evaluate' },
              (meta) =>
                meta.first !== data.first || meta.end !== data.end
                  ? `holds clips ${meta.first}..${meta.end - 1}, its job ${data.first}..${data.end - 1}`
                  : meta.modelSha256 !== data.model.sha256
                    ? 'was made with another checkpoint'
                    : null,
            );
            if (!shard.ok) return shard;
            let outcomes: ClipOutcome[];
            try {
              outcomes = (JSON.parse(shard.payload.toString('utf8')) as EvaluationShard).outcomes;
            } catch {
              return { ok: false as const, problem: `${data.shardsDir}: shard ${data.index} is not JSON` };
            }
            if (!Array.isArray(outcomes) || outcomes.length !== data.end - data.first) {
              return {
                ok: false as const,
                problem: `shard ${data.index} holds ${outcomes?.length} clips, not ${data.end - data.first}`,
              };
            }
            backends.add(shard.meta.backend);
            return { ok: true as const, value: outcomes };
          };
          const { results, failed } = await runJobs(session, runId, planned, check, 'clips', hooks);
          if (failed.length > 0) {
            const list = failedJobsLine(failed);
            throw new QueueJobsFailed(
              `${failed.length} of ${planned.length} jobs failed (complete shards are kept; run again to retry): ${list}`,
              failed,
            );
          }
          return assembleResults(
            split.videos,
            model.options,
            results.flatMap((r) => r ?? []),
          );
        } finally {
          await lock.release();
        }
      },
      onProgress: undefined,
    });
    await rm(shardsDir, { recursive: true, force: true });
    const backend = [...backends].join('+') || report.model.backend;
    const withBackend = (r: EvaluationReport): EvaluationReport => ({ ...r, model: { ...r.model, backend } });
    return report.comparison
      ? {
          ...withBackend(report),
          comparison: { ...report.comparison, report: withBackend(report.comparison.report) },
        }
      : withBackend(report);
  } finally {
    await session.close();
  }
}
