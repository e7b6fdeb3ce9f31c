/** Messages between the engine and its task threads (task-thread.ts ⇄ task-worker.ts). */
import type { Progress } from '../../common/progress.ts';
import type { GlimpseErrorData, JobSpec, JsonValue, QueueJobStatus } from './api.ts';
import type { InspectPlan } from './inspect-task.ts';
import type { ExitRequest } from '../../model/parallel/thread-end.ts';

/** Where a job's work goes and what it works on, decided by the engine before the job starts. */
export interface JobContext {
  id: string;
  exportsDir: string;
  demoDir: string;
  /** The job was resumed: continue the earlier work (extraction and training pick up where they stopped). */
  resume: boolean;
  /** For inspect and export jobs: the result to compute or read. */
  inspect?: InspectPlan;
  /** For exports: the video whose frames are drawn. */
  videoPath?: string | null;
  /** For evaluate jobs: where the kept reports live (the workspace's cache/evaluate). */
  evaluationsDir?: string;
}

export type Task =
  { kind: 'inspect'; plan: InspectPlan } | { kind: 'job'; spec: JobSpec; context: JobContext };

export type TaskResult = { [key: string]: JsonValue };

export type ToWorker = { type: 'run'; task: Task } | { type: 'cancel' } | ExitRequest;

export type FromWorker =
  /** The backend has loaded (or failed to): the thread is idle and may be left to the event loop. */
  | { type: 'ready' }
  /** `queue`: a queued job's queue side, with each of its progress events. */
  | { type: 'progress'; progress: Progress; queue?: QueueJobStatus }
  | { type: 'done'; result: TaskResult }
  | { type: 'failed'; error: GlimpseErrorData };
