import type { JobInfo, JobSpec } from '../../../main/engine/api.ts';
import type { AppState } from './app-state.svelte.ts';
import { navigate } from './navigation.ts';
import { viewHash } from './route.ts';

/** A job still to finish: it can be cancelled, and another of its kind waits. */
export const isActive = (job: JobInfo | undefined): boolean =>
  job !== undefined && (job.state === 'running' || job.state === 'queued');

/**
 * Runs a job that writes a feature dataset (extract, import) and opens that dataset in the Datasets view
 * once it is done. `started` learns the job's id as soon as there is one (to show its progress); a failure
 * goes to the app's banner.
 */
export async function runDatasetJob(
  app: AppState,
  spec: Extract<JobSpec, { outDir: string }>,
  started: (id: string) => void,
): Promise<void> {
  try {
    const job = await app.api.startJob(spec);
    started(job.id);
    const ended = await app.waitForJob(job);
    if (ended.state === 'done') navigate(viewHash('datasets', { dataset: spec.outDir }));
    else if (ended.error) app.fail(ended.error);
  } catch (err) {
    app.fail(err);
  }
}
