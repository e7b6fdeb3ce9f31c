/**
 * A pool worker: its own TensorFlow.js backend (a wasm instance has its own 4 GB heap) and its own copy of the
 * parameters, refreshed from the pool's shared buffer whenever the pool has rewritten it.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import { chooseBackend } from '../backend.ts';
import { AttentionModel } from '../model.ts';
import { microBatchGradients } from '../train-step.ts';
import { copyTensorInto, tensorFromReusedBuffer } from './host-copy.ts';
import { exitThread } from './thread-end.ts';
import {
  type FeatureShape,
  type GradientReply,
  type GradientRequest,
  type InferenceReply,
  type InferenceRequest,
  type InitRequest,
  parameterLayout,
  type ParameterSlot,
  type WorkerReply,
  type WorkerRequest,
} from './protocol.ts';

interface WorkerState {
  model: AttentionModel;
  slots: ParameterSlot[];
  params: Float32Array;
  version: number;
}

let state: WorkerState | null = null;

function reply(message: WorkerReply, transfer: ArrayBuffer[] = []): void {
  parentPort?.postMessage(message, transfer);
}

/** Loads the parameters from the pool's shared buffer into the model's variables. */
function assignFrom(shared: Float32Array, slots: ParameterSlot[], model: AttentionModel): void {
  tf.tidy(() => {
    for (const s of slots) {
      const v = model.variables.get(s.name);
      if (!v) throw new Error(`pool worker: the model has no parameter ${s.name}`);
      v.assign(tensorFromReusedBuffer(shared.subarray(s.offset, s.offset + s.size), s.shape));
    }
  });
}

let local = new Float32Array(0);

/**
 * The request's features, copied out of the pool's shared slot into a reused buffer of this worker: the native
 * engine reads them too, and onnxruntime takes no views of a SharedArrayBuffer.
 */
function features(input: SharedArrayBuffer, shape: FeatureShape): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (local.length < n) local = new Float32Array(n);
  const x = local.subarray(0, n);
  x.set(new Float32Array(input, 0, n));
  return x;
}

async function init(request: InitRequest): Promise<void> {
  const choice = await chooseBackend(request.backend);
  const { slots } = parameterLayout(request.options);
  const params = new Float32Array(request.params);
  // Copies (slice), not views: the shared buffer is rewritten later.
  const initial = new Map(
    slots.map((s) => [s.name, { shape: s.shape, data: params.slice(s.offset, s.offset + s.size) }]),
  );
  const model = AttentionModel.fromParameters(request.options, initial);
  state = { model, slots, params, version: 0 };
  reply({ type: 'ready', backend: choice.name });
}

function ready(version: number): WorkerState {
  if (!state) throw new Error('pool worker used before init');
  if (state.version !== version) {
    assignFrom(state.params, state.slots, state.model);
    state.version = version;
  }
  return state;
}

async function gradients(request: GradientRequest): Promise<void> {
  const { model, slots } = ready(request.paramsVersion);
  const x = features(request.input, request.shape);
  const { value, grads } = microBatchGradients(
    model,
    { x, shape: request.shape, labels: request.labels, dropoutSeed: request.dropoutSeed },
    request.loss,
    request.withDecay,
  );
  const out = new Float32Array(request.out);
  const present: string[] = [];
  try {
    for (const s of slots) {
      const g = grads[model.variables.get(s.name)?.name ?? ''];
      if (!g) {
        out.fill(0, s.offset, s.offset + s.size);
        continue;
      }
      copyTensorInto(out, s.offset, g);
      present.push(s.name);
    }
    const loss = value.dataSync()[0];
    const message: GradientReply = { type: 'gradients', loss, present, out: request.out };
    reply(message, [request.out]);
  } finally {
    tf.dispose([value, ...Object.values(grads)]);
  }
}

async function infer(request: InferenceRequest): Promise<void> {
  const { model } = ready(request.paramsVersion);
  const x = features(request.input, request.shape);
  const { probs, alphas } = tf.tidy(() => {
    const out = model.run(tf.tensor4d(x, request.shape), false, undefined, undefined, x);
    // Copies: on the cpu backend dataSync hands out the backend's own array.
    return {
      probs: Float32Array.from(out.probs.dataSync()),
      alphas: Float32Array.from(out.alphas.dataSync()),
    };
  });
  const message: InferenceReply = { type: 'infer', probs, alphas };
  reply(message, [probs.buffer as ArrayBuffer, alphas.buffer as ArrayBuffer]);
}

parentPort?.on('message', (request: WorkerRequest) => {
  if (request.type === 'exit') exitThread();
  const work =
    request.type === 'init'
      ? init(request)
      : request.type === 'gradients'
        ? gradients(request)
        : infer(request);
  work.catch((err: unknown) => {
    const message = err instanceof Error ? err.message : String(err);
    reply({ type: 'error', message: message.split('\n')[0] });
  });
});
