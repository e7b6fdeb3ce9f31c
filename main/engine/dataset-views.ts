/**
 * The Datasets view's engine side: describeDataset (a feature dataset's numbers: classes, split sizes,
 * frames per video, L×D and backbone, the UCF-11 group leakage check; or, for a folder of videos, which
 * dataset kind it is and the splits extraction would make), previewImport (the ranked interpretations of a
 * feature file of another layout) and the import job's work.
 */
import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import { loadDatasetManifest } from '../datasets/kinds.ts';
import type { SplitManifest } from '../datasets/manifest.ts';
import { groupLeaks, ucf11GroupOf } from '../datasets/ucf11.ts';
import { detectForImport, importFeatures, readSplitText } from '../features/import/convert.ts';
import type {
  DatasetOverview,
  FeatureDatasetOverview,
  ImportPreview,
  ImportPreviewRequest,
  ImportTextSource,
  JobSpec,
  LeakageCheck,
  VideoTreeOverview,
} from './api.ts';
import { openDatasetDir, openDatasetSplit, splitNames } from './datasets.ts';
import { aboutFile } from './error-mapping.ts';
import { GlimpseError } from './errors.ts';
import type { JobHooks } from './job-tasks.ts';
import type { TaskResult } from './task-protocol.ts';

/** Kinds tried on a folder of videos, the most specific first (folder-per-class fits almost any tree). */
const DETECTION_ORDER = ['synth', 'ucf11', 'hmdb51', 'hollywood2', 'folders'] as const;

export function leakageOf(splits: readonly SplitManifest[]): LeakageCheck {
  const files = splits.flatMap((s) => s.videos.map((v) => v.file));
  const foreign = files.find((f) => ucf11GroupOf(f) === null);
  if (files.length === 0 || foreign !== undefined) {
    return {
      applies: false,
      ok: true,
      message: `not UCF-11 names (${foreign ?? 'no file names'} is not <action>/…/v_<name>_<GG>_<CC>): no group check`,
      leaks: [],
    };
  }
  const leaks = groupLeaks(splits);
  return {
    applies: true,
    ok: leaks.length === 0,
    message:
      leaks.length === 0
        ? `no UCF-11 group has clips in two splits (${splits.length} splits, ${files.length} clips)`
        : `${leaks.length} UCF-11 group${leaks.length === 1 ? '' : 's'} in more than one split`,
    leaks,
  };
}

async function describeFeatures(dir: string): Promise<FeatureDatasetOverview> {
  const dataset = await openDatasetDir(dir);
  const framesPerVideo: FeatureDatasetOverview['framesPerVideo'] = [];
  const classCounts: FeatureDatasetOverview['classCounts'] = [];
  const manifests: SplitManifest[] = [];
  for (const { name } of dataset.splits) {
    using split = await openDatasetSplit(dir, name);
    framesPerVideo.push({ split: name, frames: split.videos.map((v) => v.frames) });
    const counts = new Array<number>(split.nClasses).fill(0);
    for (const v of split.videos) {
      if (Array.isArray(v.label)) v.label.forEach((flag, c) => (counts[c] += flag));
      else counts[v.label]++;
    }
    classCounts.push({ split: name, counts });
    manifests.push({ name, videos: split.videos.map((v) => ({ file: v.file, label: v.label })) });
  }
  const backbone = typeof dataset.info?.backbone === 'string' ? dataset.info.backbone : null;
  return {
    kind: 'features',
    dir,
    dataset,
    framesPerVideo,
    classCounts,
    backbone,
    leakage: leakageOf(manifests),
  };
}

async function describeVideoTree(dir: string): Promise<VideoTreeOverview> {
  const attempts: VideoTreeOverview['attempts'] = [];
  for (const kind of DETECTION_ORDER) {
    try {
      const manifest = await loadDatasetManifest(kind, dir);
      attempts.push({ kind, ok: true, message: manifest.protocol });
      return {
        kind: 'videos',
        dir,
        detected: kind,
        attempts,
        classes: manifest.classes,
        splits: manifest.splits.map((s) => ({ name: s.name, videos: s.videos.length })),
        videos: manifest.splits.reduce((n, s) => n + s.videos.length, 0),
        protocol: manifest.protocol,
        leakage: kind === 'ucf11' ? leakageOf(manifest.splits) : null,
      };
    } catch (err) {
      attempts.push({
        kind,
        ok: false,
        message: (err instanceof Error ? err.message : String(err)).split('\n')[0],
      });
    }
  }
  return {
    kind: 'videos',
    dir,
    detected: null,
    attempts,
    classes: [],
    splits: [],
    videos: 0,
    protocol: null,
    leakage: null,
  };
}

export async function describeDataset(dir: string): Promise<DatasetOverview> {
  if (!existsSync(dir)) throw new GlimpseError('not-found', `${dir}: folder not found`, dir);
  if (!statSync(dir).isDirectory()) throw new GlimpseError('bad-file', `${dir}: not a folder`, dir);
  if ((await splitNames(dir)).length > 0) return describeFeatures(dir);
  return aboutFile(dir, () => describeVideoTree(dir));
}

export async function previewImport(request: ImportPreviewRequest): Promise<ImportPreview> {
  const split = request.split ?? 'train';
  const text = request.text;
  const files = text
    ? await aboutFile(text.kind === 'folder' ? text.dir : text.framenum, () => readSplitText(text, split))
    : null;
  const detection = await aboutFile(request.features, () =>
    detectForImport(request.features, request.key, files, request.outDir ?? null),
  );
  return {
    file: detection.file,
    key: detection.key,
    shape: detection.shape,
    dtype: detection.dtype,
    expectedFrames: files ? files.frames.reduce((a, b) => a + b, 0) : null,
    candidates: detection.candidates.map((c) => ({
      id: c.id,
      description: c.description,
      order: c.order,
      frames: c.frames,
      K: c.K,
      L: c.L,
      D: c.D,
      spatial: c.spatial,
      temporal: c.temporal,
      score: c.score,
      conflict: c.conflict,
      preview: c.preview,
    })),
  };
}

/** The import job, in a task thread. */
export async function runImportJob(
  spec: Extract<JobSpec, { kind: 'import' }>,
  hooks: JobHooks,
): Promise<TaskResult> {
  const report = await aboutFile(spec.features, () =>
    importFeatures(
      {
        features: spec.features,
        key: spec.key,
        text: spec.text,
        outDir: spec.outDir,
        split: spec.split,
        layout: spec.layout,
        overwrite: spec.overwrite,
        invokedAs: 'glimpse engine: import job',
      },
      hooks,
    ),
  );
  return { ...report };
}

/** The text source with absolute paths, so a job means the same files whatever the worker's directory. */
export function absoluteImportText(text: ImportTextSource): ImportTextSource {
  const abs = (p: string) => path.resolve(p);
  if (text.kind === 'folder') return { ...text, dir: abs(text.dir) };
  return {
    ...text,
    framenum: abs(text.framenum),
    labels: abs(text.labels),
    ...(text.filename ? { filename: abs(text.filename) } : {}),
    ...(text.classes ? { classes: abs(text.classes) } : {}),
  };
}
