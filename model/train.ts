/**
 * The training loop of the reference (original-code.md §2), with what the reference lacks: a seeded, resumable
 * run whose every epoch ends in an atomic checkpoint, and gradients accumulated over micro-batches so that the
 * reference batch of 128 clips fits in a bounded heap.
 */
import * as tf from '@tensorflow/tfjs-core';
import seedrandom from 'seedrandom';
import { existsSync } from 'node:fs';
import { readCheckpoint, writeCheckpoint } from './checkpoint/index.ts';
import type { Checkpoint } from './checkpoint/types.ts';
import { type Clip, enumerateClips, readClipBatch } from './data/clips.ts';
import type { FeatureSplit } from './data/split.ts';
import { evaluateSplit, selectionScore } from './evaluate.ts';
import { dataLoss, weightDecay } from './loss.ts';
import { AttentionModel } from './model.ts';
import type { ModelOptions } from './options.ts';
import { Optimizer, type OptimizerName } from './optimizers.ts';

export interface TrainSettings {
  maxlen: number;
  trainingStride: number;
  /** Clip stride for validation (the reference evaluates every window: 1). */
  validStride: number;
  lastN: number;
  batchSize: number;
  /** Clips per forward/backward pass inside a batch; gradients are summed over them. */
  microBatch: number;
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

function labelTensor(
  split: FeatureSplit,
  clips: readonly Clip[],
  options: ModelOptions,
): tf.Tensor1D | tf.Tensor2D {
  if (options.multilabel) {
    const flags = clips.map((c) => split.videos[c.video].label as number[]);
    return tf.tensor2d(flags.flat(), [clips.length, options.nActions], 'float32');
  }
  return tf.tensor1d(
    clips.map((c) => split.videos[c.video].label as number),
    'int32',
  );
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
  resume: boolean,
  hooks: TrainHooks = {},
  provenance: Record<string, unknown> = {},
): Promise<TrainOutcome> {
  const optimizer = new Optimizer(settings.optimizer, settings.lrate);
  const state: RunState = { epoch: 0, bestScore: -Infinity, bestEpoch: -1 };
  const statePath = resumePath(out);
  if (resume && existsSync(statePath)) {
    const saved = await readCheckpoint(statePath);
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
  const variables = [...model.variables.values()];

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
        hooks.signal?.throwIfAborted();
        const batchClips = order.slice(b * settings.batchSize, (b + 1) * settings.batchSize);
        const batchLoss = await trainBatch(
          model,
          variables,
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
      });
      const score = selectionScore(validation);
      // Ties go to the later model, as the reference's `>=`.
      const best = score >= state.bestScore;
      state.epoch += 1;
      if (best) {
        state.bestScore = score;
        state.bestEpoch = state.epoch;
        await writeCheckpoint(out, await checkpointOf({}));
      }
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
  }
  return { bestPath: out, bestEpoch: state.bestEpoch, bestScore: state.bestScore, epochsRun: state.epoch };
}

/** One update: the summed loss over micro-batches (plus weight decay once), one optimiser step. */
async function trainBatch(
  model: AttentionModel,
  variables: tf.Variable[],
  optimizer: Optimizer,
  split: FeatureSplit,
  clips: readonly Clip[],
  settings: TrainSettings,
  dropoutKey: string,
): Promise<number> {
  const sums = new Map<string, tf.Tensor>();
  let total = 0;
  for (let first = 0; first < clips.length; first += settings.microBatch) {
    const micro = clips.slice(first, first + settings.microBatch);
    const block = readClipBatch(split, micro, settings.maxlen);
    const dropoutSeed = seedrandom.alea(`${settings.seed}/dropout/${dropoutKey}/${first}`).int32();
    const { value, grads } = tf.tidy(() => {
      const x = tf.tensor4d(block.x, [block.T, block.B, block.L, block.D]);
      const mask = tf.ones([block.T, block.B]) as tf.Tensor2D;
      const labels = labelTensor(split, micro, model.options);
      return tf.variableGrads(() => {
        const outputs = model.run(x, true, mask, dropoutSeed);
        let loss = dataLoss(
          outputs.probs,
          outputs.alphas,
          { labels, mask },
          model.options.multilabel,
          settings.alphaC,
        );
        if (first === 0 && settings.decayC > 0)
          loss = tf.add(loss, weightDecay(variables, settings.decayC)) as tf.Scalar;
        return loss;
      }, variables);
    });
    total += (await value.data())[0];
    value.dispose();
    for (const v of variables) {
      const g = grads[v.name];
      if (!g) continue;
      const previous = sums.get(v.name);
      if (previous) {
        sums.set(v.name, tf.add(previous, g));
        previous.dispose();
        g.dispose();
      } else {
        sums.set(v.name, g);
      }
    }
  }
  if (!Number.isFinite(total)) throw new Error(`training diverged: the loss is ${total}`);
  const byParam = new Map<string, tf.Tensor>();
  for (const [name, v] of model.variables) {
    const g = sums.get(v.name);
    if (g) byParam.set(name, g);
  }
  optimizer.apply(model.variables, byParam);
  for (const g of sums.values()) g.dispose();
  return total;
}
