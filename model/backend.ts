/**
 * Backend choice: native TensorFlow (GPU build, then CPU build) where it loads, else WebAssembly, else plain JS.
 * `onnx` is WebAssembly for the recurrence with onnxruntime's native CPU library for the heavy matrix products
 * (model/native). `--backend` / GLIMPSE_BACKEND force one.
 */
import * as tf from '@tensorflow/tfjs-core';
// tfjs-core alone registers no gradients: the union package does, on import.
import '@tensorflow/tfjs';
import { installTransposeFreeMatMulGradient } from './matmul-gradient.ts';
import { activateNativeMatMul } from './native/matmul-engine.ts';
import { installWasmCopyFreeKernels } from './wasm-kernels.ts';

export type BackendName = 'tensorflow-gpu' | 'tensorflow' | 'onnx' | 'wasm' | 'cpu';
export const BACKEND_NAMES: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'onnx', 'wasm', 'cpu'];
/**
 * The order tried when none is forced: onnx before plain wasm (the same results within 1e-4, its heavy products on
 * onnxruntime's native CPU library); it loads wherever onnxruntime-node's binary does.
 */
const AUTO_ORDER: readonly BackendName[] = ['tensorflow-gpu', 'tensorflow', 'onnx', 'wasm', 'cpu'];

export interface BackendChoice {
  name: BackendName;
  /** tfjs's own name of the active backend. */
  tfBackend: string;
  /** Why the preferred backends were passed over, for the log. */
  skipped: string[];
}

async function loadNative(pkg: '@tensorflow/tfjs-node-gpu' | '@tensorflow/tfjs-node'): Promise<void> {
  await import(pkg);
  await tf.setBackend('tensorflow');
  await tf.ready();
}

async function loadBackend(name: BackendName): Promise<void> {
  switch (name) {
    case 'tensorflow-gpu':
      return loadNative('@tensorflow/tfjs-node-gpu');
    case 'tensorflow':
      return loadNative('@tensorflow/tfjs-node');
    case 'onnx':
      // The engine first: where onnxruntime cannot load, nothing of wasm is left set up.
      activateNativeMatMul();
      return loadBackend('wasm');
    case 'wasm':
      await import('@tensorflow/tfjs-backend-wasm');
      if (!(await tf.setBackend('wasm'))) throw new Error('the wasm backend failed to initialise');
      await tf.ready();
      installWasmCopyFreeKernels();
      return;
    case 'cpu':
      await import('@tensorflow/tfjs-backend-cpu');
      if (!(await tf.setBackend('cpu'))) throw new Error('the cpu backend failed to initialise');
      await tf.ready();
      return;
  }
}

export function parseBackendName(value: string, source: string): BackendName {
  if ((BACKEND_NAMES as readonly string[]).includes(value)) return value as BackendName;
  throw new Error(`${source}: unknown backend '${value}' (choose ${BACKEND_NAMES.join(', ')})`);
}

let chosen: BackendChoice | null = null;

/** Picks and initialises the backend once per process; later calls return the first choice. */
export async function chooseBackend(forced?: string): Promise<BackendChoice> {
  if (chosen) return chosen;
  installTransposeFreeMatMulGradient();
  const request = forced ?? process.env.GLIMPSE_BACKEND;
  const skipped: string[] = [];
  if (request) {
    const name = parseBackendName(request, forced ? '--backend' : 'GLIMPSE_BACKEND');
    try {
      await loadBackend(name);
    } catch (err) {
      throw new Error(`backend ${name} could not be loaded: ${firstLine(err)}`);
    }
    chosen = { name, tfBackend: tf.getBackend(), skipped };
    return chosen;
  }
  for (const name of AUTO_ORDER) {
    try {
      await loadBackend(name);
      chosen = { name, tfBackend: tf.getBackend(), skipped };
      return chosen;
    } catch (err) {
      skipped.push(`${name}: ${firstLine(err)}`);
    }
  }
  throw new Error(`no TensorFlow.js backend could be loaded (${skipped.join('; ')})`);
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0];
}
