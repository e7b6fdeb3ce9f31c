/**
 * A pool worker: its own TensorFlow.js backend (a wasm instance has its own 4 GB heap) and its own copy of the
 * parameters, refreshed from the pool's shared buffer whenever the pool has rewritten it.
 */
import { parentPort } from 'node:worker_threads';
import * as tf from '@tensorflow/tfjs-core';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';
import { chooseBackend } from '../backend.ts';
import { AttentionModel } from '../model.ts';
import type { NamedArrays } from '../tensors.ts';
import { microBatchGradients } from '../train-step.ts';
import {
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

function parametersFrom(shared: Float32Array, slots: ParameterSlot[]): NamedArrays {
  const out: NamedArrays = new Map();
  for (const s of slots) out.set(s.name, { shape: s.shape, data: shared.slice(s.offset, s.offset + s.size) });
  return out;
}

/** Copies a tensor's values into `out`; on wasm straight from the heap, without dataSync's intermediate copy. */
function copyInto(out: Float32Array, offset: number, t: tf.Tensor): void {
  if (tf.getBackend() === 'wasm') {
    out.set((tf.backend() as BackendWasm).typedArrayFromHeap(t) as Float32Array, offset);
  } else {
    out.set(t.dataSync() as Float32Array, offset);
  }
}

async function init(request: InitRequest): Promise<void> {
  const choice = await chooseBackend(request.backend);
  const { slots } = parameterLayout(request.options);
  const params = new Float32Array(request.params);
  const model = AttentionModel.fromParameters(request.options, parametersFrom(params, slots));
  state = { model, slots, params, version: 0 };
  reply({ type: 'ready', backend: choice.name });
}

function ready(version: number): WorkerState {
  if (!state) throw new Error('pool worker used before init');
  if (state.version !== version) {
    state.model.assign(parametersFrom(state.params, state.slots));
    state.version = version;
  }
  return state;
}

async function gradients(request: GradientRequest): Promise<void> {
  const { model, slots } = ready(request.paramsVersion);
  const x = new Float32Array(
    request.input,
    0,
    request.shape.reduce((a, b) => a * b, 1),
  );
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
      copyInto(out, s.offset, g);
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
  const x = new Float32Array(
    request.input,
    0,
    request.shape.reduce((a, b) => a * b, 1),
  );
  const { probs, alphas } = tf.tidy(() => {
    const out = model.run(tf.tensor4d(x, request.shape), false);
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
