/**
 * One schema per API message: the argument list of every GlimpseApi method, checked at the boundary
 * by both transports (the WebSocket server and the Electron preload/IPC) before the engine sees it.
 */
import { z } from 'zod';
import type { ApiMethod } from './api.ts';
import { GlimpseError } from './errors.ts';

const path = z.string().min(1).max(4096);
const count = z.number().int().positive().max(100_000);
/** A queue of `glimpse worker`s: redis:// or rediss:// with a host (the engine connects when the job starts). */
const queueUrl = z
  .string()
  .max(2048)
  .refine((s) => {
    try {
      const u = new URL(s);
      return (u.protocol === 'redis:' || u.protocol === 'rediss:') && u.hostname !== '';
    } catch {
      return false;
    }
  }, 'expected a queue URL redis://HOST:PORT[/DB]');

const inspectSource = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('video'), path }).strict(),
  z
    .object({
      kind: z.literal('dataset'),
      dir: path,
      split: z.string().min(1).max(256),
      index: z.number().int().min(0),
    })
    .strict(),
]);

export const inspectRequestSchema = z
  .object({
    model: path,
    source: inspectSource,
    stride: count.optional(),
    lastN: count.optional(),
    maxlen: count.optional(),
    backbone: z.string().min(1).max(4096).optional(),
  })
  .strict();

export const overlaySchema = z
  .object({
    colormap: z.enum(['viridis', 'inferno', 'jet', 'spotlight']),
    opacity: z.number().min(0).max(1),
    smooth: z.boolean(),
  })
  .strict();

const json: z.ZodType<unknown> = z.lazy(() =>
  z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(json), z.record(z.string(), json)]),
);

const importText = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('folder'), dir: path, split: z.string().min(1).max(256).optional() }).strict(),
  z
    .object({
      kind: z.literal('files'),
      framenum: path,
      labels: path,
      filename: path.optional(),
      classes: path.optional(),
    })
    .strict(),
]);

const EVALUATION_REQUEST = {
  model: path,
  compare: path.optional(),
  dataset: path,
  split: z.string().min(1).max(256),
  stride: count.optional(),
  lastN: count.optional(),
};

export const evaluationRequestSchema = z.object(EVALUATION_REQUEST).strict();

export const jobSpecSchema = z.discriminatedUnion('kind', [
  z
    .object({
      kind: z.literal('extract'),
      videosDir: path,
      datasetKind: z.string().min(1).max(64),
      outDir: path,
      backbone: z.string().min(1).max(4096).optional(),
      fps: z.number().positive().max(1000).optional(),
      queue: queueUrl.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('inspect'), request: inspectRequestSchema }).strict(),
  z
    .object({
      kind: z.literal('export-filmstrip'),
      request: inspectRequestSchema,
      overlay: overlaySchema,
      frames: z.array(z.number().int().min(0)).min(1).max(64).optional(),
      out: path.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('export-video'),
      request: inspectRequestSchema,
      overlay: overlaySchema,
      format: z.enum(['mp4', 'webm']),
      out: path.optional(),
    })
    .strict(),
  z.object({ kind: z.literal('export-npz'), model: path, out: path }).strict(),
  z
    .object({
      kind: z.literal('evaluate'),
      ...EVALUATION_REQUEST,
      queue: queueUrl.optional(),
    })
    .strict(),
  z
    .object({
      kind: z.literal('train'),
      dataset: path,
      out: path,
      settings: z.record(z.string(), json),
      resume: z.boolean().optional(),
      keepEpochs: z.boolean().optional(),
    })
    .strict(),
  z.object({ kind: z.literal('demo') }).strict(),
  z
    .object({
      kind: z.literal('import'),
      features: path,
      key: z.string().min(1).max(1024).optional(),
      text: importText,
      outDir: path,
      split: z.string().min(1).max(256),
      layout: z.string().min(1).max(128).optional(),
      overwrite: z.boolean().optional(),
    })
    .strict(),
]);

const jobId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/);
const runId = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_-]{0,79}$/);

export const runSpecSchema = z
  .object({
    name: z.string().min(1).max(120).optional(),
    dataset: path,
    settings: z.record(z.string(), json),
  })
  .strict();

/** Argument tuples, method by method. */
export const API_ARGUMENTS = {
  status: z.tuple([]),
  workspace: z.tuple([]),
  openModel: z.tuple([path]),
  openDataset: z.tuple([path]),
  listVideos: z.tuple([path, z.string().min(1).max(256)]),
  openVideo: z.tuple([path]),
  inspect: z.tuple([inspectRequestSchema]),
  frames: z.tuple([
    z
      .object({
        path,
        indices: z.array(z.number().int().min(0)).min(1).max(256),
        width: z.number().int().min(8).max(4096).optional(),
      })
      .strict(),
  ]),
  startJob: z.tuple([jobSpecSchema]),
  listJobs: z.tuple([]),
  cancelJob: z.tuple([jobId]),
  resumeJob: z.tuple([jobId]),
  ensureDemo: z.tuple([]),
  browse: z.union([z.tuple([]), z.tuple([path])]),
  evaluation: z.tuple([evaluationRequestSchema]),
  describeDataset: z.tuple([path]),
  previewImport: z.tuple([
    z
      .object({
        features: path,
        key: z.string().min(1).max(1024).optional(),
        text: importText.optional(),
        split: z.string().min(1).max(256).optional(),
        outDir: path.optional(),
      })
      .strict(),
  ]),
  startRun: z.tuple([runSpecSchema]),
  listRuns: z.tuple([]),
  getRun: z.tuple([runId]),
  stopRun: z.tuple([runId]),
  resumeRun: z.tuple([runId]),
} satisfies Record<ApiMethod, z.ZodType>;

export const API_METHODS = Object.keys(API_ARGUMENTS) as ApiMethod[];

export function isApiMethod(name: unknown): name is ApiMethod {
  return typeof name === 'string' && Object.hasOwn(API_ARGUMENTS, name);
}

/** Validated arguments for `method`, or a 'bad-request' GlimpseError naming the first problem. */
export function parseApiCall(method: unknown, args: unknown): { method: ApiMethod; args: unknown[] } {
  if (!isApiMethod(method))
    throw new GlimpseError('bad-request', `unknown API method ${JSON.stringify(method)}`);
  const result = API_ARGUMENTS[method].safeParse(args);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.length > 0 ? ` at ${issue.path.join('.')}` : '';
    throw new GlimpseError('bad-request', `${method}: bad arguments${where}: ${issue.message}`);
  }
  return { method, args: result.data as unknown[] };
}
