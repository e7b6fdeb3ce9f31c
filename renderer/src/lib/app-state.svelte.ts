/**
 * State the whole window shares: the API client, the engine status, the job list kept current from
 * engine events, the error banner, and which modal is open. One instance, made in main.ts.
 */
import type {
  EngineStatus,
  GlimpseApi,
  GlimpseErrorData,
  JobInfo,
  RecentFiles,
} from '../../../main/engine/api.ts';
import type { ConnectionState, GlimpseBridge } from '../api/index.ts';
import { toErrorData } from '../api/errors.ts';
import { parseRoute, type Route } from './route.ts';

export type PickerRole = 'video' | 'model' | 'dataset';

const FINISHED = new Set(['done', 'failed', 'cancelled', 'interrupted']);

export class AppState {
  readonly api: GlimpseApi;
  readonly bridge: GlimpseBridge | null;
  route = $state<Route>({ view: 'home' });
  status = $state<EngineStatus | null>(null);
  recent = $state<RecentFiles>({ models: [], videos: [], datasets: [] });
  /** Queue URLs of earlier queued jobs, newest first (offered by the forms' Queue fields). */
  queues = $state<string[]>([]);
  jobs = $state<JobInfo[]>([]);
  error = $state<GlimpseErrorData | null>(null);
  connection = $state<ConnectionState>({ connected: true, reason: null });
  picker = $state<PickerRole | null>(null);
  shortcutsOpen = $state(false);
  /** The last Inspect address, so the Inspect tab goes back to what was open. */
  lastInspectHash = $state('#/inspect');
  readonly #waiters = new Map<string, ((job: JobInfo) => void)[]>();

  constructor(api: GlimpseApi, bridge: GlimpseBridge | null) {
    this.api = api;
    this.bridge = bridge;
    api.subscribe((event) => {
      if (event.type === 'job') this.#updateJob(event.job);
    });
  }

  /** Status, recent files and job history; failures go to the banner. */
  async refresh(): Promise<void> {
    try {
      const [status, workspace] = await Promise.all([this.api.status(), this.api.workspace()]);
      this.status = status;
      this.recent = workspace.recent;
      this.queues = workspace.queues;
      for (const job of workspace.jobs) this.#updateJob(job);
    } catch (err) {
      this.fail(err);
    }
  }

  async refreshRecent(): Promise<void> {
    try {
      const workspace = await this.api.workspace();
      this.recent = workspace.recent;
      this.queues = workspace.queues;
    } catch {
      // The recent list is a convenience; the banner is for what the user asked for.
    }
  }

  setRouteFromHash(hash: string): void {
    this.route = parseRoute(hash);
  }

  fail(err: unknown): GlimpseErrorData {
    const data = toErrorData(err);
    // A cancel the user asked for is not an error to show.
    if (data.code !== 'cancelled') this.error = data;
    return data;
  }

  #updateJob(job: JobInfo, resumed = false): void {
    const i = this.jobs.findIndex((j) => j.id === job.id);
    // Replies and events can cross: a finished record is never replaced by an older running one.
    if (!resumed && i >= 0 && FINISHED.has(this.jobs[i].state) && !FINISHED.has(job.state)) return;
    if (i >= 0) this.jobs[i] = job;
    else this.jobs = [job, ...this.jobs];
    if (FINISHED.has(job.state)) {
      const waiters = this.#waiters.get(job.id);
      this.#waiters.delete(job.id);
      for (const w of waiters ?? []) w(job);
    }
  }

  job(id: string): JobInfo | undefined {
    return this.jobs.find((j) => j.id === id);
  }

  /** Resolves with the job once it has finished (done, failed, cancelled or interrupted). */
  waitForJob(job: JobInfo): Promise<JobInfo> {
    this.#updateJob(job);
    const known = this.job(job.id) ?? job;
    if (FINISHED.has(known.state)) return Promise.resolve(known);
    return new Promise((resolve) => {
      const list = this.#waiters.get(job.id) ?? [];
      list.push(resolve);
      this.#waiters.set(job.id, list);
    });
  }

  async cancel(id: string): Promise<void> {
    try {
      this.#updateJob(await this.api.cancelJob(id));
    } catch (err) {
      this.fail(err);
    }
  }

  async resume(id: string): Promise<void> {
    try {
      this.#updateJob(await this.api.resumeJob(id), true);
    } catch (err) {
      this.fail(err);
    }
  }
}
