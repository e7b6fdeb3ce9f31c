/**
 * The engine: GlimpseApi over the library (model/, main/features, main/media, main/datasets,
 * main/workflows), with a workspace, a media registry and a job runner. Both hosts (browser mode's
 * server, Electron's utility process) create one and route validated calls to it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { chooseBackend } from '../../model/backend.ts';
import { locateFfmpeg } from '../media/locate.ts';
import type {
  DatasetSummary,
  DatasetVideo,
  DemoOutcome,
  DirectoryListing,
  EngineEvent,
  EngineStatus,
  FramesRequest,
  FramesResult,
  GlimpseApi,
  InspectOutcome,
  InspectRequest,
  JobInfo,
  JobSpec,
  ModelSummary,
  VideoSummary,
  WorkspaceState,
} from './api.ts';
import { browseDir } from './browse.ts';
import { listDatasetVideos, openDatasetDir } from './datasets.ts';
import { GlimpseError } from './errors.ts';
import { MediaRegistry } from './media-registry.ts';
import { openModelFile } from './models.ts';
import { VideoLibrary } from './videos.ts';
import { Workspace } from './workspace.ts';

export interface EngineOptions {
  workspace: string;
  transport: 'browser' | 'electron';
  /** How the host serves a registered file: '/media/ID' or 'glimpse-media://media/ID'. */
  mediaUrl(id: string): string;
}

export interface Engine extends GlimpseApi {
  /** A file the engine registered for serving (playback proxies, exports), or null. */
  resolveMedia(id: string): { path: string; contentType: string } | null;
  close(): Promise<void>;
}

const VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export async function createEngine(options: EngineOptions): Promise<Engine> {
  const workspace = await Workspace.open(options.workspace);
  const backend = await chooseBackend();
  const ffmpeg = await locateFfmpeg().then(
    (found) => found.ffmpeg,
    () => null,
  );
  const media = new MediaRegistry();
  const videos = new VideoLibrary(workspace.cacheDir('proxies'), media, options.mediaUrl);
  const listeners = new Set<(event: EngineEvent) => void>();
  const abs = (p: string) => path.resolve(p);
  const notYet = (what: string) =>
    Promise.reject(new GlimpseError('internal', `${what}: not implemented yet`));

  const engine: Engine = {
    async status(): Promise<EngineStatus> {
      return {
        version: VERSION,
        backend: backend.name,
        ffmpeg,
        workspace: workspace.dir,
        transport: options.transport,
      };
    },
    async workspace(): Promise<WorkspaceState> {
      return { dir: workspace.dir, recent: workspace.recent(), jobs: workspace.jobs() };
    },
    async openModel(file: string): Promise<ModelSummary> {
      const { summary } = await openModelFile(abs(file));
      await workspace.addRecent('models', summary.path);
      return summary;
    },
    async openDataset(dir: string): Promise<DatasetSummary> {
      const summary = await openDatasetDir(abs(dir));
      await workspace.addRecent('datasets', summary.dir);
      return summary;
    },
    listVideos(dir: string, split: string): Promise<DatasetVideo[]> {
      return listDatasetVideos(abs(dir), split);
    },
    async openVideo(file: string): Promise<VideoSummary> {
      const summary = await videos.open(abs(file));
      await workspace.addRecent('videos', summary.path);
      return summary;
    },
    inspect(_request: InspectRequest): Promise<InspectOutcome> {
      return notYet('inspect');
    },
    frames(request: FramesRequest): Promise<FramesResult> {
      return videos.frames({ ...request, path: abs(request.path) });
    },
    startJob(_spec: JobSpec): Promise<JobInfo> {
      return notYet('startJob');
    },
    async listJobs(): Promise<JobInfo[]> {
      return workspace.jobs();
    },
    cancelJob(_id: string): Promise<JobInfo> {
      return notYet('cancelJob');
    },
    resumeJob(_id: string): Promise<JobInfo> {
      return notYet('resumeJob');
    },
    ensureDemo(): Promise<DemoOutcome> {
      return notYet('ensureDemo');
    },
    browse(dir?: string): Promise<DirectoryListing> {
      return browseDir(dir === undefined ? undefined : abs(dir));
    },
    subscribe(listener: (event: EngineEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    resolveMedia(id: string) {
      return media.resolve(id);
    },
    async close(): Promise<void> {
      listeners.clear();
      await workspace.flush();
    },
  };
  return engine;
}
