/**
 * CNN backbones: any TensorFlow.js graph or layers model, from a local folder or a URL (downloaded once
 * into a disk cache), cut at a chosen node whose output must be a K×K×D map (NHWC). A backbone turns RGB
 * frames of its input size into location-major rows (N, L, D), l = row·K + col.
 *
 * tfjs in Node without tfjs-node has no file:// handler, so folders are read here with fs and handed to
 * tfjs as model artifacts.
 */
import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs';

export type ModelFormat = 'graph-model' | 'layers-model';

/** Defaults a backbone folder can carry in `glimpse-backbone.json` (the built-in one does). */
export interface BackboneDefaults {
  /** Layer (layers model) or node (graph model) whose output is the K×K×D map. */
  node?: string;
  /** Side of the square input in pixels, when the model does not fix it. */
  inputSize?: number;
  /** Pixel preprocessing: (value − mean) · scale, values 0..255. */
  mean?: number;
  scale?: number;
  description?: string;
}

export interface BackbonePreset extends Required<Omit<BackboneDefaults, 'description'>> {
  url: string;
  format: ModelFormat;
  /** Feature map the node gives at inputSize, as documented by its publishers. */
  map: string;
  description: string;
}

/**
 * ImageNet models published in TF.js format. They need internet on first use (then they are cached) and
 * are not exercised by the offline tests; the URLs and nodes are those used by the TF.js examples.
 */
export const BACKBONE_PRESETS: Readonly<Record<string, BackbonePreset>> = {
  'mobilenet-v1-0.25': {
    url: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_0.25_224/model.json',
    format: 'layers-model',
    node: 'conv_pw_13_relu',
    inputSize: 224,
    mean: 127.5,
    scale: 1 / 127.5,
    map: '7×7×256',
    description: 'MobileNet v1, width 0.25, ImageNet (Keras layers model from the TF.js examples)',
  },
  'mobilenet-v1-1.0': {
    url: 'https://storage.googleapis.com/tfjs-models/tfjs/mobilenet_v1_1.0_224/model.json',
    format: 'layers-model',
    node: 'conv_pw_13_relu',
    inputSize: 224,
    mean: 127.5,
    scale: 1 / 127.5,
    map: '7×7×1024',
    description: 'MobileNet v1, width 1.0, ImageNet: the same L and D as the reference GoogLeNet features',
  },
  'mobilenet-v2': {
    url: 'https://storage.googleapis.com/tfjs-models/savedmodel/mobilenet_v2_1.0_224/model.json',
    format: 'graph-model',
    node: 'module_apply_default/MobilenetV2/Conv_1/Relu6',
    inputSize: 224,
    mean: 0,
    scale: 1 / 255,
    map: '7×7×1280',
    description: 'MobileNet v2, width 1.0, ImageNet (TF Hub module converted to a graph model)',
  },
};

export const BUILTIN_BACKBONE = 'builtin';
export const BUILTIN_BACKBONE_DIR = fileURLToPath(
  new URL('../../assets/backbones/builtin/', import.meta.url),
);
export const BACKBONE_DEFAULTS_FILE = 'glimpse-backbone.json';
const DEFAULT_INPUT_SIZE = 224;

export interface BackboneOptions {
  /** Overrides the preset's or folder's node. */
  node?: string;
  inputSize?: number;
  mean?: number;
  scale?: number;
  /** Where downloaded models are kept; default $GLIMPSE_CACHE_DIR, else $XDG_CACHE_HOME/glimpse, else ~/.cache/glimpse. */
  cacheDir?: string;
}

export interface BackboneSource {
  kind: 'builtin' | 'preset' | 'folder' | 'url';
  /** What the user named: 'builtin', a preset name, a folder or a URL. */
  spec: string;
  /** The folder the model was read from (for URLs: the cache folder). */
  folder: string;
  url?: string;
  format: ModelFormat;
  /** sha256 of model.json and of the concatenated weight shards, so provenance pins the exact model. */
  modelJsonSha256: string;
  weightsSha256: string;
}

export interface Backbone {
  readonly source: BackboneSource;
  readonly node: string;
  readonly inputSize: number;
  readonly mean: number;
  readonly scale: number;
  /** Grid side: L = K·K locations. */
  readonly K: number;
  readonly L: number;
  readonly D: number;
  /** A short name for dataset.json, e.g. 'builtin/features'. */
  readonly id: string;
  /** `count` RGB frames (count × inputSize × inputSize × 3 bytes) → location-major (count, L, D). */
  infer(rgb: Uint8Array, count: number): Promise<Float32Array>;
  dispose(): void;
  /** `using backbone = await loadBackbone(…)`: the same as dispose(). */
  [Symbol.dispose](): void;
}

export function defaultCacheDir(): string {
  if (process.env.GLIMPSE_CACHE_DIR) return process.env.GLIMPSE_CACHE_DIR;
  const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(base, 'glimpse');
}

/** Loads `spec` ('builtin', a preset name, a folder, or an http(s)/file URL) and checks its node. */
export async function loadBackbone(spec: string, opts: BackboneOptions = {}): Promise<Backbone> {
  const resolved = await resolveSpec(spec, opts);
  const modelJsonPath = path.join(resolved.folder, 'model.json');
  const read = await readModelFolder(modelJsonPath);
  const defaults = { ...(await readFolderDefaults(resolved.folder)), ...resolved.defaults };
  const name = resolved.kind === 'builtin' ? BUILTIN_BACKBONE : spec;
  const source: BackboneSource = {
    kind: resolved.kind,
    spec,
    folder: resolved.folder,
    ...(resolved.url ? { url: resolved.url } : {}),
    format: read.format,
    modelJsonSha256: read.modelJsonSha256,
    weightsSha256: read.weightsSha256,
  };
  const mean = opts.mean ?? defaults.mean ?? 0;
  const scale = opts.scale ?? defaults.scale ?? 1 / 255;
  if (!Number.isFinite(mean) || !Number.isFinite(scale) || scale === 0) {
    throw new Error(`backbone ${name}: mean ${mean} and scale ${scale} must be finite, scale non-zero`);
  }
  const runner =
    read.format === 'layers-model'
      ? await layersRunner(name, modelJsonPath, read.artifacts, opts.node ?? defaults.node)
      : await graphRunner(name, modelJsonPath, read.artifacts, opts.node ?? defaults.node);
  try {
    const inputSize = chooseInputSize(name, runner.inputShape, opts.inputSize ?? defaults.inputSize);
    const [K, D] = probeFeatureMap(name, runner, inputSize);
    return new LoadedBackbone(source, runner, inputSize, mean, scale, K, D, name);
  } catch (err) {
    runner.dispose();
    throw err;
  }
}

interface ResolvedSpec {
  kind: BackboneSource['kind'];
  folder: string;
  url?: string;
  defaults: BackboneDefaults;
}

async function resolveSpec(spec: string, opts: BackboneOptions): Promise<ResolvedSpec> {
  if (spec === BUILTIN_BACKBONE) return { kind: 'builtin', folder: BUILTIN_BACKBONE_DIR, defaults: {} };
  const preset = BACKBONE_PRESETS[spec];
  if (preset) {
    const folder = await cachedDownload(preset.url, opts.cacheDir ?? defaultCacheDir());
    const { node, inputSize, mean, scale } = preset;
    return { kind: 'preset', folder, url: preset.url, defaults: { node, inputSize, mean, scale } };
  }
  if (/^https?:\/\//i.test(spec)) {
    const folder = await cachedDownload(spec, opts.cacheDir ?? defaultCacheDir());
    return { kind: 'url', folder, url: spec, defaults: {} };
  }
  const local = spec.startsWith('file://') ? fileURLToPath(spec) : spec;
  // Naming model.json itself is accepted too.
  const folder = path.basename(local) === 'model.json' ? path.dirname(local) : local;
  if (!existsSync(folder) || !statSync(folder).isDirectory()) {
    const presets = Object.keys(BACKBONE_PRESETS).join(', ');
    throw new Error(
      `backbone '${spec}': no such folder (use ${BUILTIN_BACKBONE}, a preset (${presets}), a folder with model.json, or an http(s) URL)`,
    );
  }
  return { kind: 'folder', folder: path.resolve(folder), defaults: {} };
}

// ---------------------------------------------------------------------------------------------------
// Reading model.json and its weight shards

interface ModelJsonFile {
  modelTopology: unknown;
  format?: string;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
}

interface ReadModel {
  format: ModelFormat;
  artifacts: tf.io.ModelArtifacts;
  modelJsonSha256: string;
  weightsSha256: string;
}

function sha256(data: Uint8Array | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Parses and checks model.json: a one-line error naming the file for anything that is not a TF.js model. */
export function parseModelJson(file: string, text: string): ModelJsonFile & { format: ModelFormat } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${firstLine(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file}: not a TensorFlow.js model.json (not a JSON object)`);
  }
  const json = parsed as Partial<ModelJsonFile>;
  if (typeof json.modelTopology !== 'object' || json.modelTopology === null) {
    throw new Error(`${file}: not a TensorFlow.js model.json (no 'modelTopology')`);
  }
  const manifest = json.weightsManifest ?? [];
  if (
    !Array.isArray(manifest) ||
    manifest.some(
      (g) =>
        typeof g !== 'object' ||
        g === null ||
        !Array.isArray(g.paths) ||
        !g.paths.every((p) => typeof p === 'string') ||
        !Array.isArray(g.weights),
    )
  ) {
    throw new Error(`${file}: 'weightsManifest' must be a list of { paths, weights } groups`);
  }
  const topology = json.modelTopology as Record<string, unknown>;
  let format: ModelFormat;
  if (json.format === 'graph-model' || json.format === 'layers-model') format = json.format;
  else if (Array.isArray(topology.node)) format = 'graph-model';
  else if ('class_name' in topology || 'model_config' in topology) format = 'layers-model';
  else throw new Error(`${file}: cannot tell a graph model from a layers model (no 'format')`);
  return { modelTopology: json.modelTopology, weightsManifest: manifest, format };
}

async function readModelFolder(modelJsonPath: string): Promise<ReadModel> {
  let text: string;
  try {
    text = await readFile(modelJsonPath, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new Error(
      `${modelJsonPath}: ${code === 'ENOENT' ? 'missing' : `cannot be read (${firstLine(err)})`}`,
    );
  }
  const json = parseModelJson(modelJsonPath, text);
  const folder = path.dirname(modelJsonPath);
  const weightSpecs: tf.io.WeightsManifestEntry[] = [];
  const shards: Uint8Array[] = [];
  for (const group of json.weightsManifest) {
    weightSpecs.push(...group.weights);
    for (const shard of group.paths) {
      const shardPath = path.resolve(folder, shard);
      if (!shardPath.startsWith(folder + path.sep)) {
        throw new Error(`${modelJsonPath}: weight path '${shard}' leaves the model folder`);
      }
      try {
        shards.push(await readFile(shardPath));
      } catch (err) {
        throw new Error(
          `${shardPath}: weight file listed in ${modelJsonPath} cannot be read (${firstLine(err)})`,
        );
      }
    }
  }
  const total = shards.reduce((n, s) => n + s.length, 0);
  const expected = weightSpecs.reduce((n, w) => n + weightBytes(modelJsonPath, w), 0);
  if (total !== expected) {
    throw new Error(
      `${modelJsonPath}: weight files hold ${total} bytes but its manifest describes ${expected}`,
    );
  }
  const weightData = new Uint8Array(total);
  let at = 0;
  for (const s of shards) {
    weightData.set(s, at);
    at += s.length;
  }
  const artifacts: tf.io.ModelArtifacts = {
    modelTopology: json.modelTopology as tf.io.ModelArtifacts['modelTopology'],
    format: json.format,
    weightSpecs,
    weightData: weightData.buffer,
  };
  return {
    format: json.format,
    artifacts,
    modelJsonSha256: sha256(text),
    weightsSha256: sha256(weightData),
  };
}

const DTYPE_BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, float16: 2 };

function weightBytes(file: string, w: tf.io.WeightsManifestEntry): number {
  if (!w || typeof w.name !== 'string' || !Array.isArray(w.shape)) {
    throw new Error(`${file}: a weight entry has no name or shape`);
  }
  const count = w.shape.reduce((a, b) => a * b, 1);
  const dtype = w.quantization?.dtype ?? w.dtype;
  const bytes = DTYPE_BYTES[dtype as string];
  if (bytes === undefined) throw new Error(`${file}: weight '${w.name}' has unsupported dtype '${dtype}'`);
  return count * bytes;
}

async function readFolderDefaults(folder: string): Promise<BackboneDefaults> {
  const file = path.join(folder, BACKBONE_DEFAULTS_FILE);
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: not valid JSON (${firstLine(err)})`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`${file}: must hold a JSON object`);
  }
  const d = parsed as Record<string, unknown>;
  const out: BackboneDefaults = {};
  if (typeof d.node === 'string') out.node = d.node;
  for (const key of ['inputSize', 'mean', 'scale'] as const) {
    const v = d[key];
    if (v === undefined) continue;
    if (typeof v !== 'number' || !Number.isFinite(v)) throw new Error(`${file}: '${key}' must be a number`);
    out[key] = v;
  }
  if (typeof d.description === 'string') out.description = d.description;
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Download cache

/** The cache folder of `url`: `<cacheDir>/backbones/<sha256(url)>`, filled on first use. */
export function backboneCacheFolder(url: string, cacheDir: string): string {
  return path.join(cacheDir, 'backbones', sha256(url));
}

/**
 * Downloads model.json and its shards once. Everything lands in a temporary folder that is renamed into
 * place only when complete, so an interrupted download is never mistaken for a model.
 */
async function cachedDownload(url: string, cacheDir: string): Promise<string> {
  const folder = backboneCacheFolder(url, cacheDir);
  if (existsSync(path.join(folder, 'model.json'))) return folder;
  const temp = `${folder}.tmp-${process.pid}`;
  await rm(temp, { recursive: true, force: true });
  await mkdir(temp, { recursive: true });
  try {
    const text = new TextDecoder().decode(await download(url));
    const json = parseModelJson(url, text);
    for (const group of json.weightsManifest) {
      for (const shard of group.paths) {
        const target = path.resolve(temp, shard);
        if (!target.startsWith(temp + path.sep))
          throw new Error(`${url}: weight path '${shard}' is not relative`);
        await mkdir(path.dirname(target), { recursive: true });
        await writeFile(target, await download(new URL(shard, url).href));
      }
    }
    await writeFile(
      path.join(temp, 'source.json'),
      JSON.stringify({ url, downloaded: new Date().toISOString() }) + '\n',
    );
    await writeFile(path.join(temp, 'model.json'), text);
    await rm(folder, { recursive: true, force: true });
    await rename(temp, folder);
  } catch (err) {
    await rm(temp, { recursive: true, force: true });
    throw err;
  }
  return folder;
}

async function download(url: string): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    throw new Error(`${url}: download failed (${firstLine(cause ?? err)})`);
  }
  if (!response.ok)
    throw new Error(`${url}: download failed (HTTP ${response.status} ${response.statusText})`);
  return new Uint8Array(await response.arrayBuffer());
}

// ---------------------------------------------------------------------------------------------------
// Running a model up to its node

interface Runner {
  node: string;
  /** [batch, height, width, channels] with null where the model leaves it open. */
  inputShape: (number | null)[];
  run(x: tf.Tensor4D): tf.Tensor;
  dispose(): void;
}

async function layersRunner(
  name: string,
  file: string,
  artifacts: tf.io.ModelArtifacts,
  node: string | undefined,
): Promise<Runner> {
  let model: tf.LayersModel;
  try {
    model = await tf.loadLayersModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new Error(`${file}: cannot load the layers model (${firstLine(err)})`);
  }
  let cut = model;
  const chosen = node ?? model.outputs[0].sourceLayer.name;
  if (node !== undefined) {
    let layer: tf.layers.Layer;
    try {
      layer = model.getLayer(node);
    } catch {
      const names = model.layers.map((l) => l.name);
      throw new Error(
        `backbone ${name}: no layer '${node}' (has ${names.slice(0, 8).join(', ')}${names.length > 8 ? ', …' : ''})`,
      );
    }
    const output = layer.output;
    if (Array.isArray(output)) throw new Error(`backbone ${name}: layer '${node}' has several outputs`);
    cut = tf.model({ inputs: model.inputs, outputs: output });
  }
  const shape = model.inputs[0].shape;
  return {
    node: chosen,
    inputShape: shape,
    run: (x) => cut.predict(x) as tf.Tensor,
    dispose: () => model.dispose(),
  };
}

async function graphRunner(
  name: string,
  file: string,
  artifacts: tf.io.ModelArtifacts,
  node: string | undefined,
): Promise<Runner> {
  let model: tf.GraphModel;
  try {
    model = await tf.loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (err) {
    throw new Error(`${file}: cannot load the graph model (${firstLine(err)})`);
  }
  const chosen = node ?? model.outputs[0].name.replace(/:0$/, '');
  const shape = (model.inputs[0]?.shape ?? [-1, -1, -1, 3]).map((d) => (d < 0 ? null : d));
  return {
    node: chosen,
    inputShape: shape,
    run: (x) => {
      try {
        return model.execute(x, chosen) as tf.Tensor;
      } catch (err) {
        throw new Error(`backbone ${name}: node '${chosen}' cannot be computed (${firstLine(err)})`);
      }
    },
    dispose: () => model.dispose(),
  };
}

function chooseInputSize(name: string, shape: (number | null)[], wanted: number | undefined): number {
  if (shape.length !== 4 || (shape[3] !== null && shape[3] !== 3)) {
    throw new Error(`backbone ${name}: input shape [${shape.join(', ')}] is not NHWC with 3 channels`);
  }
  const [, h, w] = shape;
  if (h !== null && w !== null && h !== w) {
    throw new Error(`backbone ${name}: input ${h}×${w} is not square`);
  }
  const fixed = h ?? w;
  if (fixed !== null && fixed !== undefined) {
    if (wanted !== undefined && wanted !== fixed) {
      throw new Error(`backbone ${name}: the model takes ${fixed}×${fixed} input, not ${wanted}×${wanted}`);
    }
    return fixed;
  }
  const size = wanted ?? DEFAULT_INPUT_SIZE;
  if (!Number.isInteger(size) || size < 8 || size > 4096) {
    throw new Error(`backbone ${name}: input size ${size} must be an integer in 8..4096`);
  }
  return size;
}

/** Runs one black frame to learn K and D; the node must give a rank-4 NHWC map with height = width. */
function probeFeatureMap(name: string, runner: Runner, inputSize: number): [number, number] {
  const shape = tf.tidy(() => runner.run(tf.zeros([1, inputSize, inputSize, 3]) as tf.Tensor4D).shape);
  if (shape.length !== 4 || shape[1] !== shape[2] || shape[1] < 1 || shape[3] < 1) {
    throw new Error(
      `backbone ${name}: node '${runner.node}' gives shape [${shape.join(', ')}] for ${inputSize}×${inputSize} input, not a K×K×D map (rank 4, NHWC, height = width)`,
    );
  }
  return [shape[1], shape[3]];
}

class LoadedBackbone implements Backbone {
  readonly L: number;
  readonly id: string;

  constructor(
    readonly source: BackboneSource,
    private readonly runner: Runner,
    readonly inputSize: number,
    readonly mean: number,
    readonly scale: number,
    readonly K: number,
    readonly D: number,
    name: string,
  ) {
    this.L = K * K;
    this.id = `${name}/${runner.node}`;
  }

  get node(): string {
    return this.runner.node;
  }

  async infer(rgb: Uint8Array, count: number): Promise<Float32Array> {
    const S = this.inputSize;
    if (!Number.isInteger(count) || count <= 0 || rgb.length !== count * S * S * 3) {
      throw new Error(
        `backbone ${this.id}: expected ${count} frames of ${S}×${S}×3 bytes, got ${rgb.length} bytes`,
      );
    }
    const out = tf.tidy(() => {
      const x = tf.tensor4d(Float32Array.from(rgb), [count, S, S, 3]);
      return this.runner.run(tf.mul(tf.sub(x, this.mean), this.scale) as tf.Tensor4D);
    });
    try {
      const values = (await out.data()) as Float32Array;
      if (values.length !== count * this.L * this.D) {
        throw new Error(
          `backbone ${this.id}: output has ${values.length} values, expected ${count}×${this.L}×${this.D}`,
        );
      }
      return values;
    } finally {
      out.dispose();
    }
  }

  dispose(): void {
    this.runner.dispose();
  }

  [Symbol.dispose](): void {
    this.dispose();
  }
}

function firstLine(err: unknown): string {
  const message = err instanceof Error ? err.message : String(err);
  return message.split('\n')[0].trim();
}
