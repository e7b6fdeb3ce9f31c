/**
 * Convergence of each initialisation on the signal test bed (signal-set.ts): `runTraining`, as `glimpse train`
 * runs it, with a small model, until the validation accuracy (video level, on the held-out `valid` split)
 * first reaches the target or the epoch cap is spent. Every init sees the same data, seed and settings.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ModelOptions, ParamInit } from '../../common/options.ts';
import { CancelledError, throwIfAborted } from '../../common/progress.ts';
import type { TrainSettings } from '../../model/train.ts';
import { runTraining } from '../workflows/training.ts';
import { SIGNAL_SET, writeSignalSet } from './signal-set.ts';

/** The model and protocol the convergence figures are for (printed beside them). */
export const CONVERGENCE_MODEL: Partial<ModelOptions> = { dim: 32, dimOut: 32, useDropout: false };
export const CONVERGENCE_SETTINGS: Partial<TrainSettings> = {
  maxlen: 8,
  lastN: 8,
  trainingStride: 4,
  validStride: 8,
  batchSize: 16,
  optimizer: 'adam',
  lrate: 0.005,
  decayC: 1e-5,
  alphaC: 0,
};

export interface ConvergenceRequest {
  inits: readonly ParamInit[];
  /** Validation accuracy to reach, 0…1. */
  target: number;
  maxEpochs: number;
  /** Initialisation, shuffling and the data. */
  seed: number;
  backendName: string;
  /** Worker threads for training (default: one, so the figures do not depend on the core count). */
  workers?: number;
  signal?: AbortSignal;
  onEpoch?: (init: ParamInit, epoch: number, validAccuracy: number, trainLoss: number) => void;
}

export interface ConvergenceFigure {
  init: ParamInit;
  /** First epoch (1-based) whose validation accuracy reached the target; null when none did within the cap. */
  epochsToTarget: number | null;
  /** Per finished epoch, until the target or the cap. */
  validAccuracy: number[];
  /** Mean training batch loss per finished epoch. */
  trainLoss: number[];
  seconds: number;
}

/** Why this module stopped a run: the target was reached (any other abort is the caller's). */
class TargetReached extends CancelledError {}

export async function runConvergence(r: ConvergenceRequest): Promise<ConvergenceFigure[]> {
  if (!(r.target > 0 && r.target <= 1))
    throw new Error(`convergence target must be in (0, 1], got ${r.target}`);
  if (!Number.isInteger(r.maxEpochs) || r.maxEpochs < 1)
    throw new Error(`convergence epochs must be an integer ≥ 1, got ${r.maxEpochs}`);
  const dir = await mkdtemp(join(tmpdir(), 'glimpse-bench-convergence-'));
  try {
    await writeSignalSet(dir, r.seed);
    const figures: ConvergenceFigure[] = [];
    for (const init of r.inits) {
      throwIfAborted(r.signal);
      const stop = new AbortController();
      const signal = r.signal ? AbortSignal.any([r.signal, stop.signal]) : stop.signal;
      const figure: ConvergenceFigure = {
        init,
        epochsToTarget: null,
        validAccuracy: [],
        trainLoss: [],
        seconds: 0,
      };
      const t0 = performance.now();
      try {
        await runTraining(
          {
            dataset: dir,
            out: join(dir, `${init}.h5`),
            seed: r.seed,
            backendName: r.backendName,
            invokedAs: 'glimpse bench: convergence',
            model: { ...CONVERGENCE_MODEL, init },
            settings: { ...CONVERGENCE_SETTINGS, epochs: r.maxEpochs, workers: r.workers ?? 1 },
          },
          {
            signal,
            onProgress: (_, p) => {
              if (p.kind !== 'epoch') return;
              figure.validAccuracy.push(p.validScore);
              figure.trainLoss.push(p.trainLoss);
              r.onEpoch?.(init, p.epoch, p.validScore, p.trainLoss);
              if (p.validScore >= r.target && figure.epochsToTarget === null) {
                figure.epochsToTarget = p.epoch;
                stop.abort(new TargetReached(`reached ${r.target} at epoch ${p.epoch}`));
              }
            },
          },
        );
      } catch (err) {
        if (!(stop.signal.aborted && !r.signal?.aborted)) throw err;
      }
      figure.seconds = (performance.now() - t0) / 1000;
      figures.push(figure);
    }
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The shape of the test bed and the model, for the bench's output. */
export function convergenceSetup(): { [key: string]: number | string | boolean } {
  return {
    locations: SIGNAL_SET.locations,
    ctx: SIGNAL_SET.ctxDim,
    classes: SIGNAL_SET.classes,
    frames_per_video: SIGNAL_SET.frames,
    train_videos: SIGNAL_SET.classes * SIGNAL_SET.perClass.train,
    valid_videos: SIGNAL_SET.classes * SIGNAL_SET.perClass.valid,
    dim: CONVERGENCE_MODEL.dim ?? 0,
    dim_out: CONVERGENCE_MODEL.dimOut ?? 0,
    dropout: CONVERGENCE_MODEL.useDropout ?? true,
    maxlen: CONVERGENCE_SETTINGS.maxlen ?? 0,
    training_stride: CONVERGENCE_SETTINGS.trainingStride ?? 0,
    valid_stride: CONVERGENCE_SETTINGS.validStride ?? 0,
    batch: CONVERGENCE_SETTINGS.batchSize ?? 0,
    optimizer: `${CONVERGENCE_SETTINGS.optimizer} ${CONVERGENCE_SETTINGS.lrate}`,
  };
}
