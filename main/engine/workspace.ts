/**
 * The engine's workspace folder: recent files (`state.json`), the job history (`jobs.json`), caches
 * (`cache/`: playback proxies, one-video features, inspect results) and default export folder (`exports/`).
 * JSON files are written atomically, one write at a time per file, so a crash or a full disk leaves the
 * previous version; a file that cannot be parsed is kept aside (never overwritten) and the engine starts
 * from empty state.
 */
import { constants as fsConstants, existsSync } from 'node:fs';
import { access, mkdir, readFile, rename } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { errorLine, writeFileAtomic } from '../../model/atomic-file.ts';
import type { JobInfo, RecentFiles } from './api.ts';
import { GlimpseError } from './errors.ts';

/** XDG_DATA_HOME/glimpse (~/.local/share/glimpse), ~/Library/Application Support/Glimpse, %APPDATA%/Glimpse. */
export function defaultWorkspaceDir(): string {
  const home = os.homedir();
  if (process.platform === 'darwin') return path.join(home, 'Library', 'Application Support', 'Glimpse');
  if (process.platform === 'win32')
    return path.join(process.env.APPDATA || path.join(home, 'AppData', 'Roaming'), 'Glimpse');
  return path.join(process.env.XDG_DATA_HOME || path.join(home, '.local', 'share'), 'glimpse');
}

export type RecentKind = keyof RecentFiles;
export type CacheKind = 'proxies' | 'features' | 'inspect' | 'evaluate';

const RECENT_LIMIT = 20;
const JOB_HISTORY_LIMIT = 200;

interface StateFile {
  version: 1;
  recent: RecentFiles;
  /** Queue URLs of queued jobs, newest first (absent in files of earlier versions). */
  queues?: string[];
}

function emptyRecent(): RecentFiles {
  return { models: [], videos: [], datasets: [] };
}

function isStringArray(v: unknown): v is string[] {
  return Array.isArray(v) && v.every((s) => typeof s === 'string');
}

export class Workspace {
  private recentFiles: RecentFiles;
  private recentQueues: string[];
  private jobHistory: JobInfo[];
  private readonly writes = new Map<string, Promise<void>>();

  private constructor(
    readonly dir: string,
    recent: RecentFiles,
    queues: string[],
    jobs: JobInfo[],
  ) {
    this.recentFiles = recent;
    this.recentQueues = queues;
    this.jobHistory = jobs;
  }

  /** Opens (creating when missing) the workspace; a folder that cannot be written is a one-line error. */
  static async open(dir: string): Promise<Workspace> {
    const root = path.resolve(dir);
    try {
      await mkdir(root, { recursive: true });
      await access(root, fsConstants.W_OK);
    } catch (err) {
      throw new GlimpseError(
        'bad-file',
        `${root}: cannot use this workspace folder (${errorLine(err)})`,
        root,
      );
    }
    const state = await readJson(path.join(root, 'state.json'));
    const recent = emptyRecent();
    if (state && typeof state === 'object' && 'recent' in state) {
      const r = (state as StateFile).recent;
      for (const kind of ['models', 'videos', 'datasets'] as const)
        if (isStringArray(r?.[kind])) recent[kind] = r[kind];
    }
    const queues = state && typeof state === 'object' && 'queues' in state ? (state as StateFile).queues : [];
    const jobsJson = await readJson(path.join(root, 'jobs.json'));
    const jobs = Array.isArray(jobsJson) ? (jobsJson as JobInfo[]) : [];
    return new Workspace(root, recent, isStringArray(queues) ? queues : [], jobs);
  }

  cacheDir(kind: CacheKind): string {
    return path.join(this.dir, 'cache', kind);
  }

  get exportsDir(): string {
    return path.join(this.dir, 'exports');
  }

  get demoDir(): string {
    return path.join(this.dir, 'demo');
  }

  recent(): RecentFiles {
    return structuredClone(this.recentFiles);
  }

  /** Moves `file` to the front of its recent list and saves the list. */
  async addRecent(kind: RecentKind, file: string): Promise<void> {
    this.recentFiles = { ...this.recentFiles, [kind]: frontOf(this.recentFiles[kind], file) };
    await this.saveState();
  }

  queues(): string[] {
    return [...this.recentQueues];
  }

  /** Moves a queue URL to the front of the queues used (the workstation offers the first one next time). */
  async addQueue(url: string): Promise<void> {
    this.recentQueues = frontOf(this.recentQueues, url);
    await this.saveState();
  }

  private saveState(): Promise<void> {
    const state: StateFile = { version: 1, recent: this.recentFiles, queues: this.recentQueues };
    return this.write('state.json', state);
  }

  jobs(): JobInfo[] {
    return structuredClone(this.jobHistory);
  }

  /** Replaces the job history (newest last, oldest dropped past the limit) and saves it. */
  async saveJobs(jobs: readonly JobInfo[]): Promise<void> {
    this.jobHistory = structuredClone(jobs.slice(-JOB_HISTORY_LIMIT));
    await this.write('jobs.json', this.jobHistory);
  }

  /** Waits for the writes in flight. */
  async flush(): Promise<void> {
    await Promise.all([...this.writes.values()]);
  }

  private write(name: string, value: unknown): Promise<void> {
    const file = path.join(this.dir, name);
    const text = JSON.stringify(value, null, 1) + '\n';
    // One write per file at a time: writeFileAtomic's temp name is per process.
    const previous = this.writes.get(name) ?? Promise.resolve();
    const next = previous
      .catch(() => {})
      .then(() => writeFileAtomic(file, text))
      .catch((err: unknown) => {
        throw new GlimpseError('bad-file', `${file}: cannot save the workspace (${errorLine(err)})`, file);
      });
    this.writes.set(name, next);
    return next;
  }
}

function frontOf(list: readonly string[], item: string): string[] {
  return [item, ...list.filter((f) => f !== item)].slice(0, RECENT_LIMIT);
}

/** Parsed JSON, or null when the file is missing; an unparsable file is renamed aside, never lost. */
async function readJson(file: string): Promise<unknown> {
  if (!existsSync(file)) return null;
  try {
    return JSON.parse(await readFile(file, 'utf8'));
  } catch {
    await rename(file, `${file}.unreadable-${Date.now()}`).catch(() => {});
    return null;
  }
}
