/** openModel: a checkpoint as the ModelSummary the renderer shows, with its content hash (the cache key). */
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import path, { extname } from 'node:path';
import { picklePathFor, readCheckpoint, type Checkpoint } from '../../model/checkpoint/index.ts';
import { countParameters } from '../../model/params.ts';
import { BACKBONE_PRESETS, BUILTIN_BACKBONE } from '../features/backbone.ts';
import { BUILTIN_CTX_DIM } from '../features/builtin-backbone.ts';
import { contentHash } from '../media/proxy.ts';
import type { JsonValue, ModelSummary } from './api.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';

export interface OpenedModel {
  summary: ModelSummary;
  checkpoint: Checkpoint;
}

function positiveInt(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
}

/** Inspect's protocol defaults: the model's maxlen and last_n, non-overlapping clips. */
export function protocolDefaults(training: Record<string, unknown>): ModelSummary['defaults'] {
  const maxlen = positiveInt(training.maxlen) ?? 30;
  const lastN = positiveInt(training.last_n) ?? maxlen;
  return { maxlen, lastN, stride: maxlen };
}

/** D of a backbone preset's map ('7×7×256' → 256), the built-in one included; null for other specs. */
export function backboneCtxDim(name: string): number | null {
  if (name === BUILTIN_BACKBONE) return BUILTIN_CTX_DIM;
  const map = Object.hasOwn(BACKBONE_PRESETS, name) ? BACKBONE_PRESETS[name].map : null;
  const d = map ? /×(\d+)$/.exec(map) : null;
  return d ? Number(d[1]) : null;
}

export function backbonesWithCtxDim(ctxDim: number): string[] {
  return [BUILTIN_BACKBONE, ...Object.keys(BACKBONE_PRESETS)].filter(
    (name) => backboneCtxDim(name) === ctxDim,
  );
}

/**
 * A loadable backbone spec from what a feature spec records: dataset.json names the backbone by its id,
 * `<spec>/<node>` ('builtin/features'), so the node is cut off unless the name loads as it is.
 */
export function backboneSpecOf(recorded: string): string {
  const loads = (name: string) =>
    name === BUILTIN_BACKBONE ||
    Object.hasOwn(BACKBONE_PRESETS, name) ||
    /model\.json$/i.test(name) ||
    (!/^[a-z]+:/i.test(name) && existsSync(path.join(name, 'model.json')));
  if (loads(recorded)) return recorded;
  const cut = recorded.lastIndexOf('/');
  return cut > 0 && loads(recorded.slice(0, cut)) ? recorded.slice(0, cut) : recorded;
}

/** sha256 of the checkpoint (for .npz: of the .npz and its .npz.pkl together). */
export async function modelHash(file: string): Promise<string> {
  if (extname(file).toLowerCase() !== '.npz') return contentHash(file);
  const parts = await Promise.all([contentHash(file), contentHash(picklePathFor(file))]);
  return createHash('sha256').update(parts.join(':')).digest('hex');
}

function json(value: unknown): { [key: string]: JsonValue } {
  return JSON.parse(JSON.stringify(value ?? {})) as { [key: string]: JsonValue };
}

export async function openModelFile(file: string): Promise<OpenedModel> {
  if (!existsSync(file)) throw new GlimpseError('not-found', `${file}: file not found`, file);
  return aboutFile(file, async () => {
    const checkpoint = await readCheckpoint(file);
    const summary: ModelSummary = {
      path: file,
      hash: await modelHash(file),
      format: extname(file).toLowerCase() === '.npz' ? 'npz' : 'h5',
      options: json(checkpoint.options),
      classNames: checkpoint.classNames,
      featureSpec: checkpoint.featureSpec,
      matchingBackbones: backbonesWithCtxDim(checkpoint.options.ctxDim),
      defaults: protocolDefaults(checkpoint.training),
      training: json(checkpoint.training),
      provenance: json(checkpoint.provenance),
      parameterCount: countParameters(checkpoint.options),
    };
    return { summary, checkpoint };
  });
}
