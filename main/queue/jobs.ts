/**
 * What travels through the queue: the run a job belongs to (with what a worker must match to take it)
 * and the two job kinds, extraction (a few videos) and evaluation (a run of clips of a split). Job data is
 * small JSON; results go to shard files on the shared output folder (shards.ts).
 */
import type { ClipOutcome } from '../../model/evaluate.ts';
import type { Label } from '../../model/data/text-files.ts';

/** What every job of a run carries: the run, where its shards go, and the coordinator's glimpse. */
export interface RunRef {
  runId: string;
  /** Job number within the run: its shard's name and its place in the merge. */
  index: number;
  /** Folder for shard files, on storage every machine sees. */
  shardsDir: string;
  glimpseVersion: string;
}

/** The backbone as the coordinator loaded it: a worker loads the same spec and must get the same model. */
export interface BackboneRef {
  spec: string;
  node?: string;
  inputSize: number;
  mean: number;
  scale: number;
  modelJsonSha256: string;
  weightsSha256: string;
}

export interface ExtractJobData extends RunRef {
  kind: 'extract';
  backbone: BackboneRef;
  fps: number;
  batch: number;
  /** Absolute video root; `videos[].file` are relative to it. */
  videosRoot: string;
  videos: { split: string; file: string; label: Label }[];
}

export interface EvaluateJobData extends RunRef {
  kind: 'evaluate';
  model: { path: string; sha256: string; multilabel: boolean };
  dataset: string;
  split: string;
  settings: {
    maxlen: number;
    stride: number;
    lastN: number;
    batchSize: number;
    keepSteps: boolean;
    attention: boolean;
  };
  /** Clips [first, end) of the split's clip list (clipsOf order). */
  first: number;
  end: number;
}

export type QueueJobData = ExtractJobData | EvaluateJobData;

/** One video of an extraction shard; its rows follow the previous video's in the shard's payload. */
export interface ShardVideo {
  split: string;
  file: string;
  label: Label;
  /** Rows in the payload: all its frames, or for a failed video those decoded before the failure. */
  frames: number;
  /** Set when the video failed: the one-line reason, as single-machine extraction reports it. */
  failed?: string;
}

/** The worker's answer: where the shard is and who made it. */
export interface JobResult {
  shard: string;
  worker: string;
  backend: string;
}

/** An evaluation shard's payload: the clips' outcomes, in clip order. */
export interface EvaluationShard {
  outcomes: ClipOutcome[];
}

/** Job ids are stable across coordinator restarts, so a resumed run finds its jobs again. */
export function jobId(runId: string, index: number): string {
  return `${runId}-${index}`;
}
