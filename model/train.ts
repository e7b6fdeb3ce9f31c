/**
 * The training loop of the reference (original-code.md §2), with what the reference lacks: a seeded, resumable
 * run whose every epoch ends in an atomic checkpoint, and gradients accumulated over micro-batches so that the
 * reference batch of 128 clips fits in a bounded heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { throwIfAborted } from '../common/progress.ts';
import { writeCheckpoint } from './checkpoint/index.ts';
import type { Checkpoint } from './checkpoint/types.ts';
import { type Clip, enumerateClips, readClipBatch } from './data/clips.ts';
import { featureSpecFromInfo } from './data/dataset-info.ts';
import type { FeatureSplit } from './data/split.ts';
import { evaluateSplit, selectionScore } from './evaluate.ts';
import { AttentionModel } from './model.ts';
import type { ModelOptions } from '../common/options.ts';
import { Optimizer, type OptimizerName } from './optimizers.ts';
import { poolBackend, WorkerPool } from './parallel/pool.ts';
import { type MicroBatch, trainStep } from './train-step.ts';

export interface TrainSettings {
  maxlen: number;
  trainingStride: number;
  /** Clip stride for validation (the reference evaluates every window: 1). */
  validStride: number;
  lastN: number;
  batchSize: number;
  /** Clips per forward/backward pass inside a batch; gradients are summed over them. */
  microBatch: number;
  /**
   * Worker threads that run micro-batches in parallel (wasm/cpu backends; same numbers as one thread).
   * Unset or 1: everything in this thread. See `defaultWorkerCount` in parallel/pool.ts.
   */
  workers?: number;
  epochs: number;
  optimizer: OptimizerName;
  lrate: number;
  decayC: number;
  alphaC: number;
  seed: number;
}

export interface TrainData {
  train: FeatureSplit;
  /** Videos of `train` used for training (all when no hold-out was taken). */
  trainVideos: number[];
  valid: FeatureSplit;
  validVideos: number[];
  classNames: string[];
}

export interface BatchProgress {
  kind: 'batch';
  epoch: number;
  batch: number;
  batches: number;
  loss: number;
  clipsPerS: number;
  etaS: number;
}

export interface EpochProgress {
  kind: 'epoch';
  epoch: number;
  trainLoss: number;
  validScore: number;
  best: boolean;
  seconds: number;
}

export type TrainProgress = BatchProgress | EpochProgress | { kind: 'resume'; epoch: number };

export interface TrainHooks {
  signal?: AbortSignal;
  onProgress?: (p: TrainProgress) => void;
  /** Where to keep finished epoch `epoch`'s model (no optimiser state), so every epoch can be reopened. */
  epochCheckpoint?: (epoch: number) => string;
}

export interface TrainOutcome {
  bestPath: string;
  bestEpoch: number;
  bestScore: number;
  epochsRun: number;
}

/** The file that carries the last finished epoch (parameters + optimiser state) for `--resume`. */
export function resumePath(out: string): string {
  return out.replace(/\.h5$/i, '') + '.resume.h5';
}

function shuffled<T>(items: readonly T[], seed: string): T[] {
  const rng = seedrandom.alea(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rng() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

function labelArray(
  split: FeatureSplit,
  clips: readonly Clip[],
  options: ModelOptions,
): Int32Array | Float32Array {
  if (options.multilabel)
    return Float32Array.from(clips.flatMap((c) => split.videos[c.video].label as number[]));
  return Int32Array.from(clips.map((c) => split.videos[c.video].label as number));
}

interface RunState {
  epoch: number;
  bestScore: number;
  bestEpoch: number;
}

export async function train(
  model: AttentionModel,
  data: TrainData,
  settings: TrainSettings,
  out: string,
  /** The last finished epoch of an interrupted run (its `.resume.h5`), to continue from; null to start afresh. */
  resumeFrom: Checkpoint | null,
  hooks: TrainHooks = {},
  provenance: Record<string, unknown> = {},
): Promise<TrainOutcome> {
  const optimizer = new Optimizer(settings.optimizer, settings.lrate);
  const state: RunState = { epoch: 0, bestScore: -Infinity, bestEpoch: -1 };
  const statePath = resumePath(out);
  if (resumeFrom) {
    const saved = resumeFrom;
    model.assign(saved.params);
    if (saved.optimizer) optimizer.restore(saved.optimizer as Parameters<Optimizer['restore']>[0]);
    const run = saved.provenance.run as RunState | undefined;
    if (run) Object.assign(state, run);
    hooks.onProgress?.({ kind: 'resume', epoch: state.epoch });
  }

  const wanted = new Set(data.trainVideos);
  const allClips = enumerateClips(data.train, settings.maxlen, settings.trainingStride).filter((c) =>
    wanted.has(c.video),
  );
  if (allClips.length === 0) throw new Error(`${data.train.dir}: no training clips`);
  const batches = Math.ceil(allClips.length / settings.batchSize);
  // Data-parallel micro-batches on worker threads, when asked for and the backend is one they can run.
  const workers = Math.min(settings.workers ?? 1, Math.ceil(settings.batchSize / settings.microBatch));
  const backend = poolBackend(tf.getBackend());
  const pool =
    workers > 1 && backend
      ? await WorkerPool.start({ workers, backend, options: model.options, params: await model.parameters() })
      : null;

  const checkpointOf = async (extra: Partial<Checkpoint>): Promise<Checkpoint> => ({
    options: model.options,
    params: await model.parameters(),
    classNames: data.classNames,
    training: {
      maxlen: settings.maxlen,
      last_n: settings.lastN,
      batch_size: settings.batchSize,
      optimizer: settings.optimizer,
      lrate: settings.lrate,
      decay_c: settings.decayC,
      alpha_c: settings.alphaC,
      training_stride: settings.trainingStride,
      seed: settings.seed,
    },
    provenance: { ...provenance, run: { ...state } },
    featureSpec: featureSpecFromInfo(data.train.info, data.train.L, data.train.D),
    ...extra,
  });

  try {
    while (state.epoch < settings.epochs) {
      const epochStart = performance.now();
      // Clips, labels and lengths travel together: each sample is one (video, start) pair.
      const order = shuffled(allClips, `${settings.seed}/epoch/${state.epoch}`);
      let epochLoss = 0;
      let clipsDone = 0;
      for (let b = 0; b < batches; b++) {
        throwIfAborted(hooks.signal);
        const batchClips = order.slice(b * settings.batchSize, (b + 1) * settings.batchSize);
        const batchLoss = await trainBatch(
          model,
          pool,
          optimizer,
          data.train,
          batchClips,
          settings,
          `${state.epoch}/${b}`,
        );
        epochLoss += batchLoss;
        clipsDone += batchClips.length;
        const elapsed = (performance.now() - epochStart) / 1000;
        const rate = clipsDone / elapsed;
        const remainingClips =
          allClips.length - clipsDone + (settings.epochs - state.epoch - 1) * allClips.length;
        hooks.onProgress?.({
          kind: 'batch',
          epoch: state.epoch,
          batch: b,
          batches,
          loss: batchLoss,
          clipsPerS: rate,
          etaS: remainingClips / rate,
        });
      }
      const validation = await evaluateSplit(model, data.valid, {
        maxlen: settings.maxlen,
        stride: settings.validStride,
        lastN: settings.lastN,
        batchSize: settings.microBatch,
        keepSteps: false,
        videoIndices: data.validVideos,
        signal: hooks.signal,
        pool,
      });
      const score = selectionScore(validation);
      // Ties go to the later model, as the reference's `>=`.
      const best = score >= state.bestScore;
      state.epoch += 1;
      if (best) {
        state.bestScore = score;
        state.bestEpoch = state.epoch;
      }
      const plain = best || hooks.epochCheckpoint ? await checkpointOf({}) : null;
      if (plain && best) await writeCheckpoint(out, plain);
      if (plain && hooks.epochCheckpoint) await writeCheckpoint(hooks.epochCheckpoint(state.epoch), plain);
      await writeCheckpoint(statePath, await checkpointOf({ optimizer: await optimizer.state() }));
      hooks.onProgress?.({
        kind: 'epoch',
        epoch: state.epoch,
        trainLoss: epochLoss / batches,
        validScore: score,
        best,
        seconds: (performance.now() - epochStart) / 1000,
      });
    }
  } finally {
    optimizer.dispose();
    await pool?.close();
  }
  return { bestPath: out, bestEpoch: state.bestEpoch, bestScore: state.bestScore, epochsRun: state.epoch };
}

/** One update: the summed loss over micro-batches (plus weight decay once), one optimiser step. */
async function trainBatch(
  model: AttentionModel,
  pool: WorkerPool | null,
  optimizer: Optimizer,
  split: FeatureSplit,
  clips: readonly Clip[],
  settings: TrainSettings,
  dropoutKey: string,
): Promise<number> {
  const read = (i: number): MicroBatch => {
    const first = i * settings.microBatch;
    const micro = clips.slice(first, first + settings.microBatch);
    const block = readClipBatch(split, micro, settings.maxlen);
    return {
      x: block.x,
      shape: [block.T, block.B, block.L, block.D],
      labels: labelArray(split, micro, model.options),
      dropoutSeed: seedrandom.alea(`${settings.seed}/dropout/${dropoutKey}/${first}`).int32(),
    };
  };
  const count = Math.ceil(clips.length / settings.microBatch);
  return trainStep(model, optimizer, count, read, settings, pool);
}
