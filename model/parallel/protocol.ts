/** Messages between a WorkerPool and its workers. Large arrays travel in SharedArrayBuffers or are transferred. */
import type { ModelOptions } from '../../common/options.ts';
import { parameterSpecs } from '../params.ts';
import { sizeOf } from '../tensors.ts';
import type { LossSettings } from '../train-step.ts';
import type { ExitRequest } from './thread-end.ts';

export type FeatureShape = [number, number, number, number];

export interface InitRequest {
  type: 'init';
  backend: string;
  options: ModelOptions;
  /** Every parameter, concatenated in the model's order; the pool writes, workers read. */
  params: SharedArrayBuffer;
}

export interface GradientRequest {
  type: 'gradients';
  /** Bumped by the pool whenever `params` was rewritten. */
  paramsVersion: number;
  input: SharedArrayBuffer;
  shape: FeatureShape;
  labels: Int32Array | Float32Array;
  dropoutSeed: number;
  loss: LossSettings;
  withDecay: boolean;
  /** Receives the gradients, concatenated like the parameters (transferred there and back). */
  out: ArrayBuffer;
}

export interface InferenceRequest {
  type: 'infer';
  paramsVersion: number;
  input: SharedArrayBuffer;
  shape: FeatureShape;
}

export type WorkerRequest = InitRequest | GradientRequest | InferenceRequest | ExitRequest;

export interface ReadyReply {
  type: 'ready';
  backend: string;
}

export interface GradientReply {
  type: 'gradients';
  loss: number;
  /** Names of the parameters that received a gradient (the rest of `out` is zero). */
  present: string[];
  out: ArrayBuffer;
}

export interface InferenceReply {
  type: 'infer';
  probs: Float32Array;
  alphas: Float32Array;
}

export interface ErrorReply {
  type: 'error';
  message: string;
}

export type WorkerReply = ReadyReply | GradientReply | InferenceReply | ErrorReply;

export interface ParameterSlot {
  name: string;
  shape: number[];
  offset: number;
  size: number;
}

/** Where each parameter sits in the concatenated parameter and gradient buffers. */
export function parameterLayout(options: ModelOptions): { slots: ParameterSlot[]; total: number } {
  const slots: ParameterSlot[] = [];
  let offset = 0;
  for (const spec of parameterSpecs(options)) {
    const size = sizeOf(spec.shape);
    slots.push({ name: spec.name, shape: spec.shape, offset, size });
    offset += size;
  }
  return { slots, total: offset };
}
