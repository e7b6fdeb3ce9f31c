/**
 * The one surface the renderer sees (DESIGN.md "Engine API"): plain data in and out, typed arrays for
 * big payloads. Implemented by the engine (main/engine/engine.ts) and, on the renderer side, by the
 * WebSocket client (browser mode) and the preload bridge (Electron). Types only: the renderer imports
 * this file with `import type`.
 */
import type { FeatureSpec } from '../../common/feature-spec.ts';
import type { Progress as JobProgress } from '../../common/progress.ts';

/** Error codes every transport carries unchanged. */
export type GlimpseErrorCode =
  'not-found' | 'bad-file' | 'mismatch' | 'busy' | 'cancelled' | 'bad-request' | 'unauthorized' | 'internal';

export interface GlimpseErrorData {
  code: GlimpseErrorCode;
  /** One line a researcher can act on, naming the file when there is one. */
  message: string;
  file?: string;
}

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
  | { kind: 'evaluate'; model: string; dataset: string; split: string; stride?: number; lastN?: number }
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
  | { kind: 'demo' };

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

export type EngineEvent = { type: 'job'; job: JobInfo };

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
  /** Engine events; returns the unsubscribe function. */
  subscribe(listener: (event: EngineEvent) => void): () => void;
}

/** Methods callable over a transport (everything but subscribe). */
export type ApiMethod = Exclude<keyof GlimpseApi, 'subscribe'>;
