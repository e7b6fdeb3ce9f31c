/**
 * The one surface the renderer sees (DESIGN.md "Engine API"): plain data in and out, typed arrays for
 * big payloads. Implemented by the engine (main/engine/engine.ts) and, on the renderer side, by the
 * WebSocket client (browser mode) and the preload bridge (Electron). Types only: the renderer imports
 * this file with `import type`.
 */
import type { FeatureSpec } from '../../common/feature-spec.ts';
import type { Progress as JobProgress } from '../../common/progress.ts';
import type { ClassAttention, VideoAttention } from '../../common/attention-stats.ts';
import type { PairedStatistics } from '../../common/paired-stats.ts';

import type { GlimpseErrorCode, GlimpseErrorData } from '../../common/error-data.ts';

/** Error codes every transport carries unchanged. */
export type { GlimpseErrorCode, GlimpseErrorData };

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export type { FeatureSpec } from '../../common/feature-spec.ts';
export interface ModelSummary {
  path: string;
  /** Content hash of the checkpoint file(s): the cache key. */
  hash: string;
  format: 'h5' | 'npz';
  /** Model options (camelCase, as common/options.ts). */
  options: { [key: string]: JsonValue };
  classNames: string[];
  /** Null for reference `.npz` files: Inspect of a raw video then asks for a backbone. */
  featureSpec: FeatureSpec | null;
  /** Backbone presets whose D matches the model, offered when featureSpec is null. */
  matchingBackbones: string[];
  /** The protocol the model was trained with, used as Inspect's defaults. */
  defaults: { maxlen: number; lastN: number; stride: number };
  training: { [key: string]: JsonValue };
  provenance: { [key: string]: JsonValue };
  parameterCount: number;
}

export interface SplitSummary {
  name: string;
  videos: number;
  frames: number;
  multilabel: boolean;
  locations: number;
  ctxDim: number;
}

export interface DatasetSummary {
  dir: string;
  /** dataset.json as found, or null. */
  info: { [key: string]: JsonValue } | null;
  classNames: string[];
  splits: SplitSummary[];
  /** Folder of the source videos when dataset.json names one that exists, else null. */
  videosDir: string | null;
}

export interface DatasetVideo {
  index: number;
  /** Path relative to the videos folder, as `{split}_filename.txt` has it. */
  file: string;
  frames: number;
  label: number | number[];
  /** Absolute path of the source video when it exists on disk. */
  videoPath: string | null;
}

/** A video the engine has opened; only such videos are served to the renderer. */
export interface VideoSummary {
  path: string;
  hash: string;
  width: number;
  height: number;
  durationS: number;
  codec: string;
  container: string;
  /** The source's own frame rate. */
  sourceFps: number;
  playback: PlaybackInfo;
}

/**
 * The playable copy: an all-intra constant-rate proxy made with the same ffmpeg `fps` filter as
 * extraction, so picture n of the proxy is feature row n. Its timestamps are n / fps exactly.
 */
export interface PlaybackInfo {
  /** URL the renderer's <video> loads (browser mode: /media/ID; Electron: glimpse-media://media/ID). */
  url: string;
  fps: number;
  frames: number;
  width: number;
  height: number;
}

export type InspectSource =
  { kind: 'video'; path: string } | { kind: 'dataset'; dir: string; split: string; index: number };

export interface InspectRequest {
  model: string;
  source: InspectSource;
  /** Frames between clip starts; default: the model's stride (maxlen: non-overlapping clips). */
  stride?: number;
  lastN?: number;
  maxlen?: number;
  /** Backbone to extract a raw video with, when the model records none (reference .npz). */
  backbone?: string;
}

export interface InspectClip {
  /** First feature row of the clip. */
  start: number;
  /** Steps in the clip (≤ maxlen; fewer for a video shorter than one clip). */
  steps: number;
  /** probs[t·C + c]: class probabilities at step t. */
  probs: Float32Array;
  /** alpha[t·L + l]: attention at step t on location l = row·K + col. */
  alpha: Float32Array;
  /** Clip prediction from the last `lastN` steps (single-label), else null. */
  prediction: number | null;
}

export interface InspectResult {
  request: InspectRequest;
  modelHash: string;
  /** Hash of the feature rows the model read. */
  featuresHash: string;
  classNames: string[];
  multilabel: boolean;
  /** K: the grid is K×K, L = K². */
  grid: number;
  locations: number;
  /** Feature rows per second: the step clock. */
  fps: number;
  /** Feature rows of the video. */
  frames: number;
  maxlen: number;
  stride: number;
  lastN: number;
  backbone: string;
  backend: string;
  label: number | number[] | null;
  /** Video prediction (majority vote of clip predictions), single-label only. */
  prediction: number | null;
  /** Per-class video scores (mean of clip scores). */
  scores: number[];
  clips: InspectClip[];
  /** The playable video, or null when the source video is not on disk (dataset without videos). */
  video: VideoSummary | null;
  /** True when served from the workspace cache. */
  cached: boolean;
}

/** Inspect answers at once when it can; a raw video needs extraction first, run as a job. */
export type InspectOutcome = { status: 'ready'; result: InspectResult } | { status: 'job'; job: JobInfo };

export interface FramesRequest {
  /** A video the engine has opened (openVideo or inspect). */
  path: string;
  /** Feature rows (frames at the playback fps). */
  indices: number[];
  /** Output width in pixels (height keeps the aspect); default the video's. */
  width?: number;
}

export interface FramesResult {
  width: number;
  height: number;
  /** One RGBA image per requested index, width·height·4 bytes each. */
  frames: Uint8Array[];
}

export type Colormap = 'viridis' | 'inferno' | 'jet' | 'spotlight';

export interface OverlaySettings {
  colormap: Colormap;
  opacity: number;
  /** Bilinear + Gaussian (σ ≈ 20 px at 224) as the reference notebook; false: the true K×K cells. */
  smooth: boolean;
}

export type JobSpec =
  | {
      kind: 'extract';
      videosDir: string;
      datasetKind: string;
      outDir: string;
      backbone?: string;
      fps?: number;
      /** redis://HOST:PORT[/DB]: the videos go to `glimpse worker`s through this queue; outDir must be a folder they all see. */
      queue?: string;
    }
  | { kind: 'inspect'; request: InspectRequest }
  | {
      kind: 'export-filmstrip';
      request: InspectRequest;
      overlay: OverlaySettings;
      /** Feature rows to show; default: 8 evenly spaced steps of the current clip. */
      frames?: number[];
      out?: string;
    }
  | {
      kind: 'export-video';
      request: InspectRequest;
      overlay: OverlaySettings;
      format: 'mp4' | 'webm';
      out?: string;
    }
  | { kind: 'export-npz'; model: string; out: string }
  | ({
      kind: 'evaluate';
      /** redis://HOST:PORT[/DB]: the clips go to `glimpse worker`s; they write shards in `<dataset>/.queue-evaluate/`. */
      queue?: string;
    } & EvaluationRequest)
  | {
      kind: 'train';
      dataset: string;
      out: string;
      settings: { [key: string]: JsonValue };
      /** Continue from the last finished epoch of `out` (as resumeJob does). */
      resume?: boolean;
      /** Keep every finished epoch's model beside `out` (M.epoch-001.h5, …): what a run of the Train view does. */
      keepEpochs?: boolean;
    }
  | { kind: 'demo' }
  | {
      kind: 'import';
      features: string;
      key?: string;
      text: ImportTextSource;
      outDir: string;
      split: string;
      /** Candidate id (ImportCandidate.id); default the best-ranked one that fits. */
      layout?: string;
      overwrite?: boolean;
    };

// ---- Datasets view: what a folder is, and feature import (main/engine/dataset-views.ts) ----

/** The UCF-11 group hold-out check: no group's clips in two splits. */
export interface LeakageCheck {
  /** False when the file names are not UCF-11 names (v_<name>_<GG>_<CC>): the check does not apply. */
  applies: boolean;
  ok: boolean;
  message: string;
  leaks: { group: string; splits: { split: string; file: string }[] }[];
}

export interface FeatureDatasetOverview {
  kind: 'features';
  dir: string;
  dataset: DatasetSummary;
  /** Frames of each video, split by split, in file order. */
  framesPerVideo: { split: string; frames: number[] }[];
  /** Videos per class in each split (multi-label: videos per flag). */
  classCounts: { split: string; counts: number[] }[];
  backbone: string | null;
  leakage: LeakageCheck;
}

export interface VideoTreeOverview {
  kind: 'videos';
  dir: string;
  /** The first kind whose layout the folder has (synth, ucf11, hmdb51, hollywood2, folders), or null. */
  detected: string | null;
  /** Each kind tried, and why it does not fit. */
  attempts: { kind: string; ok: boolean; message: string }[];
  classes: string[];
  splits: { name: string; videos: number }[];
  videos: number;
  protocol: string | null;
  leakage: LeakageCheck | null;
}

export type DatasetOverview = FeatureDatasetOverview | VideoTreeOverview;

/** Where an imported split's framenum/labels/filename files come from. */
export type ImportTextSource =
  | { kind: 'folder'; dir: string; split?: string }
  | { kind: 'files'; framenum: string; labels: string; filename?: string; classes?: string };

export interface ImportPreviewRequest {
  features: string;
  key?: string;
  text?: ImportTextSource;
  /** The split the text files are read for (default train). */
  split?: string;
  /** The dataset folder the split will join: its L×D rules out other readings. */
  outDir?: string;
}

/** One interpretation of the file, scored on sample frames. */
export interface ImportCandidate {
  id: string;
  description: string;
  order: 'C' | 'F';
  frames: number;
  K: number;
  L: number;
  D: number;
  /** Neighbouring cells' correlation minus the other pairs'. */
  spatial: number;
  /** Consecutive frames' correlation minus distant ones'. */
  temporal: number;
  score: number;
  /** Why it cannot be right (frame counts, the dataset's L×D), or null. */
  conflict: string | null;
  /** A few frames: per-cell first principal component and energy, L values each (row-major). */
  preview: { frame: number; pc1: number[]; energy: number[] }[];
}

export interface ImportPreview {
  file: string;
  key: string;
  shape: number[];
  dtype: string;
  /** Sum of the text files' frame counts, when given. */
  expectedFrames: number | null;
  /** Best first. */
  candidates: ImportCandidate[];
}

export type JobKind = JobSpec['kind'];

export type JobState = 'queued' | 'running' | 'done' | 'failed' | 'cancelled' | 'interrupted';

/** The one progress event of every long job (common/progress.ts). */
export type { Progress as JobProgress } from '../../common/progress.ts';
export interface JobInfo {
  id: string;
  kind: JobKind;
  title: string;
  spec: JobSpec;
  state: JobState;
  progress: JobProgress | null;
  /** ISO times. */
  created: string;
  started: string | null;
  finished: string | null;
  error: GlimpseErrorData | null;
  /** What the job made: output paths and their URLs, an inspect key, a report. */
  result: { [key: string]: JsonValue } | null;
  /** True when resumeJob can continue it (cancelled or interrupted work that resumes). */
  resumable: boolean;
  /** A job whose work runs on `glimpse worker`s through a queue: the queue's side, as last reported. */
  queue?: QueueJobStatus;
}

/** A queued job's queue: the workers seen and the queue jobs (a few videos or clip batches each). */
export interface QueueJobStatus {
  /** The Redis, without a password. */
  url: string;
  workers: { id: string; host: string; alive: boolean }[];
  /** Videos or clips done, of all of the run. */
  done: number;
  total: number;
  unit: 'videos' | 'clips';
  jobsDone: number;
  jobsTotal: number;
  failedJobs: number;
  /** The coordinator's latest notices (resumed shards, stalled or failed jobs), newest last. */
  notices: string[];
}

export interface RecentFiles {
  models: string[];
  videos: string[];
  datasets: string[];
}

export interface EngineStatus {
  version: string;
  /** TensorFlow.js backend in use ('tensorflow-gpu', 'tensorflow', 'wasm', 'cpu'). */
  backend: string;
  ffmpeg: string | null;
  workspace: string;
  transport: 'browser' | 'electron';
}

export interface WorkspaceState {
  dir: string;
  recent: RecentFiles;
  /** Queue URLs of the latest queued jobs, newest first. */
  queues: string[];
  jobs: JobInfo[];
}

/** The ready-made demo: synthetic actions, the built-in backbone and a model trained on them. */
export type DemoOutcome =
  | { status: 'ready'; model: string; dataset: string; split: string; index: number; video: string }
  | { status: 'job'; job: JobInfo };

export interface DirectoryEntry {
  name: string;
  path: string;
  kind: 'dir' | 'file';
  /** What the engine recognises the entry as. */
  role: 'video' | 'model' | 'dataset' | 'other';
}

export interface DirectoryListing {
  path: string;
  parent: string | null;
  entries: DirectoryEntry[];
}

/** A training run of the Train view: the folder `runs/ID/` of the workspace (spec, log, checkpoints). */
export interface RunSpec {
  /** Shown in the run list; the run's id is made from it. Default: the dataset folder's name. */
  name?: string;
  dataset: string;
  /** The train job's settings: model options, training settings, seed, trainSplit, validSplit. */
  settings: { [key: string]: JsonValue };
}

/** A point of a run's curves, as the run log records it (batch losses every 10th batch or more often, each epoch's last). */
export type RunPoint =
  | {
      kind: 'batch';
      /** Finished epochs before this batch (0-based epoch index). */
      epoch: number;
      batch: number;
      batches: number;
      loss: number;
      clipsPerS: number;
      etaS: number;
    }
  | {
      kind: 'epoch';
      /** Finished epochs, 1-based. */
      epoch: number;
      trainLoss: number;
      validScore: number;
      best: boolean;
      seconds: number;
    };

export interface RunCheckpoint {
  /** Finished epoch, 1-based. */
  epoch: number;
  /** The epoch's model (`model.epoch-NNN.h5`); for the best epoch the best file `model.h5` has the same weights. */
  path: string;
  validScore: number;
  best: boolean;
}

export interface RunSummary {
  id: string;
  name: string;
  dataset: string;
  created: string;
  /** Its train job's state; 'interrupted' when the app closed while it trained. */
  state: JobState;
  jobId: string | null;
  /** The train job's last progress (clips/s, ETA), or null. */
  progress: JobProgress | null;
  error: GlimpseErrorData | null;
  /** "Resume training" continues from the last finished epoch. */
  resumable: boolean;
  /** Planned epochs. */
  epochs: number;
  epochsDone: number;
  /** What validation scores: accuracy, or mAP for multi-label data. */
  metric: 'accuracy' | 'mAP';
  bestEpoch: number | null;
  bestScore: number | null;
  /** The best-by-validation checkpoint (present once an epoch has finished). */
  model: string;
}

export interface RunDetail extends RunSummary {
  settings: { [key: string]: JsonValue };
  /** Model options and training settings in full, as the run log's first line records them, or null. */
  resolved: { options: { [key: string]: JsonValue }; settings: { [key: string]: JsonValue } } | null;
  points: RunPoint[];
  checkpoints: RunCheckpoint[];
  logPath: string;
}

export type EngineEvent =
  | { type: 'job'; job: JobInfo }
  /** New curve points of a run: its full list is the earlier points up to index `from`, then `points`. */
  | { type: 'run'; run: RunSummary; from: number; points: RunPoint[] };

/** A full-split evaluation (Evaluate view): one model, or two paired on the same split and stride. */
export interface EvaluationRequest {
  model: string;
  /** Model B of a paired comparison. */
  compare?: string;
  dataset: string;
  split: string;
  /** Clip stride in frames; default 1 (the reference evaluation). */
  stride?: number;
  /** Default: each model's own last_n. */
  lastN?: number;
}

/** A video of a kept evaluation report: the results JSON of DESIGN.md without the per-clip entries. */
export interface EvaluationVideo {
  index: number;
  file: string;
  label: number | number[];
  prediction?: number;
  scores: number[];
  /** Clips evaluated. */
  clips: number;
  attention?: VideoAttention;
}

export interface EvaluationReportData {
  model: { path: string; options: { [key: string]: JsonValue }; classNames: string[]; backend: string };
  dataset: { dir: string; split: string };
  settings: { maxlen: number; stride: number; lastN: number };
  videos: EvaluationVideo[];
  metrics: {
    accuracy?: number;
    perClassAccuracy?: (number | null)[];
    confusion?: number[][];
    ap?: (number | null)[];
    mAP?: number;
  };
  classAttention?: ClassAttention[];
  comparison?: { report: EvaluationReportData; paired: PairedStatistics };
}

/** A kept report (instant), or none yet: then the job computing it, if one runs. */
export type EvaluationOutcome =
  | { status: 'ready'; key: string; report: EvaluationReportData }
  | { status: 'none'; key: string; job: JobInfo | null };

export interface GlimpseApi {
  status(): Promise<EngineStatus>;
  workspace(): Promise<WorkspaceState>;
  openModel(path: string): Promise<ModelSummary>;
  openDataset(dir: string): Promise<DatasetSummary>;
  listVideos(dir: string, split: string): Promise<DatasetVideo[]>;
  openVideo(path: string): Promise<VideoSummary>;
  inspect(request: InspectRequest): Promise<InspectOutcome>;
  frames(request: FramesRequest): Promise<FramesResult>;
  startJob(spec: JobSpec): Promise<JobInfo>;
  listJobs(): Promise<JobInfo[]>;
  cancelJob(id: string): Promise<JobInfo>;
  resumeJob(id: string): Promise<JobInfo>;
  ensureDemo(): Promise<DemoOutcome>;
  /** Directory listing for the in-app file picker (browser mode has no native dialog). */
  browse(dir?: string): Promise<DirectoryListing>;
  /** The kept report of an evaluation (start one with startJob({ kind: 'evaluate', ... })). */
  evaluation(request: EvaluationRequest): Promise<EvaluationOutcome>;
  /** Datasets view: a feature dataset's numbers, or a video tree's detected kind and splits. */
  describeDataset(dir: string): Promise<DatasetOverview>;
  /** Ranked interpretations of a feature file of another layout, with preview maps. */
  previewImport(request: ImportPreviewRequest): Promise<ImportPreview>;
  /** Training runs (Train view): start one as a train job, list, detail with curves and checkpoints. */
  startRun(spec: RunSpec): Promise<RunDetail>;
  listRuns(): Promise<RunSummary[]>;
  getRun(id: string): Promise<RunDetail>;
  stopRun(id: string): Promise<RunSummary>;
  /** Continues from the last finished epoch; 'busy' while the run trains. */
  resumeRun(id: string): Promise<RunSummary>;
  /** Engine events; returns the unsubscribe function. */
  subscribe(listener: (event: EngineEvent) => void): () => void;
}

/** Methods callable over a transport (everything but subscribe). */
export type ApiMethod = Exclude<keyof GlimpseApi, 'subscribe'>;
