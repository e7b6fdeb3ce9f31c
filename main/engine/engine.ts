/**
 * The engine: GlimpseApi over the library (model/, main/features, main/media, main/datasets,
 * main/workflows), with a workspace, a media registry and a job runner. Both hosts (browser mode's
 * server, Electron's utility process) create one and route validated calls to it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
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
import { absoluteImportText, describeDataset, previewImport } from './dataset-views.ts';
import { GlimpseError } from './errors.ts';
import { checkModelFitsSplit, evaluationKey, Evaluations } from './evaluations.ts';
import { Inspector } from './inspect.ts';
import { DEMO_FILE } from './job-tasks.ts';
import { JobRunner } from './jobs.ts';
import { MediaRegistry } from './media-registry.ts';
import { Runs } from './runs.ts';
import type { JobContext } from './task-protocol.ts';
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
  const emit = (event: EngineEvent) => {
    for (const listener of listeners) listener(event);
  };
  const abs = (p: string) => path.resolve(p);
  const inspector = new Inspector(workspace, videos, backend.name);

  const mustExist = (file: string) => {
    if (!existsSync(file)) throw new GlimpseError('not-found', `${file}: file not found`, file);
  };
  /** Paths made absolute, so a job means the same files whatever the worker's directory. */
  const absoluteSpec = (spec: JobSpec): JobSpec => {
    const request = (r: InspectRequest): InspectRequest => ({
      ...r,
      model: abs(r.model),
      source:
        r.source.kind === 'video'
          ? { kind: 'video', path: abs(r.source.path) }
          : { ...r.source, dir: abs(r.source.dir) },
    });
    switch (spec.kind) {
      case 'extract':
        return { ...spec, videosDir: abs(spec.videosDir), outDir: abs(spec.outDir) };
      case 'train':
        return { ...spec, dataset: abs(spec.dataset), out: abs(spec.out) };
      case 'evaluate':
        return {
          ...spec,
          model: abs(spec.model),
          dataset: abs(spec.dataset),
          ...(spec.compare ? { compare: abs(spec.compare) } : {}),
        };
      case 'export-npz':
        return { ...spec, model: abs(spec.model), out: abs(spec.out) };
      case 'inspect':
        return { ...spec, request: request(spec.request) };
      case 'export-filmstrip':
      case 'export-video':
        return { ...spec, request: request(spec.request), ...(spec.out ? { out: abs(spec.out) } : {}) };
      case 'demo':
        return spec;
      case 'import':
        return {
          ...spec,
          features: abs(spec.features),
          outDir: abs(spec.outDir),
          text: absoluteImportText(spec.text),
        };
    }
  };
  // Follows the train jobs' logs (the runner is made next; runs asks for it only once called).
  const runs = new Runs(path.join(workspace.dir, 'runs'), () => jobs, emit);
  const jobs = new JobRunner(workspace, backend.name, {
    async prepare(spec, id, resume) {
      const context: JobContext = {
        id,
        exportsDir: workspace.exportsDir,
        demoDir: workspace.demoDir,
        resume,
      };
      switch (spec.kind) {
        case 'extract':
          mustExist(spec.videosDir);
          return { context, output: spec.outDir };
        case 'train':
          mustExist(spec.dataset);
          return { context, output: spec.out };
        case 'evaluate':
          for (const model of [spec.model, ...(spec.compare ? [spec.compare] : [])]) {
            mustExist(model);
            mustExist(spec.dataset);
            await checkModelFitsSplit(model, spec.dataset, spec.split);
          }
          context.evaluationsDir = evaluations.dir;
          // One job per evaluation at a time: the same request again is 'busy'.
          return { context, output: `evaluate:${await evaluationKey(spec)}` };
        case 'export-npz':
          mustExist(spec.model);
          return { context, output: spec.out };
        case 'demo':
          return { context, output: workspace.demoDir };
        case 'import':
          mustExist(spec.features);
          return { context, output: path.join(spec.outDir, `${spec.split}_features.h5`) };
        case 'inspect':
        case 'export-filmstrip':
        case 'export-video': {
          const planned = await inspector.plan(spec.request);
          context.inspect = planned.plan;
          context.videoPath = planned.videoPath;
          return { context, output: spec.kind === 'inspect' ? planned.output : (spec.out ?? null) };
        }
      }
    },
    finish(_spec, result) {
      const out = { ...result };
      if (typeof out.path === 'string') out.url = options.mediaUrl(media.register(out.path));
      return out;
    },
    emit: (job) => {
      emit({ type: 'job', job });
      runs.onJob(job);
    },
  });
  await jobs.init();
  const evaluations = new Evaluations(workspace.cacheDir('evaluate'), () => jobs.list());
  // Exports made before a restart stay servable at the URLs their jobs recorded.
  for (const job of jobs.list()) {
    const made = job.result?.path;
    if (job.state === 'done' && typeof made === 'string' && existsSync(made)) media.register(made);
  }
  const startJob = async (spec: JobSpec): Promise<JobInfo> => {
    const job = await jobs.start(absoluteSpec(spec));
    if ((spec.kind === 'extract' || spec.kind === 'evaluate') && spec.queue)
      await workspace.addQueue(spec.queue);
    return job;
  };

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
      return {
        dir: workspace.dir,
        recent: workspace.recent(),
        queues: workspace.queues(),
        jobs: jobs.list(),
      };
    },
    async openModel(file: string): Promise<ModelSummary> {
      const { summary } = await inspector.model(abs(file));
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
    async inspect(request: InspectRequest): Promise<InspectOutcome> {
      const planned = await inspector.plan(request);
      const cached = await inspector.cachedKey(planned);
      if (cached) return { status: 'ready', result: await inspector.result(request, planned, cached, true) };
      if (planned.needsExtraction) {
        // The playback proxy is made while the job extracts, so the result is playable when it is ready.
        if (planned.videoPath && planned.plan.source.kind === 'video')
          void videos.open(planned.videoPath, planned.plan.source.fps).catch(() => {});
        const running = jobs.activeWriting(planned.output);
        return { status: 'job', job: running ?? (await startJob({ kind: 'inspect', request })) };
      }
      const key = await inspector.compute(planned);
      return { status: 'ready', result: await inspector.result(request, planned, key, false) };
    },
    frames(request: FramesRequest): Promise<FramesResult> {
      return videos.frames({ ...request, path: abs(request.path) });
    },
    startJob,
    async listJobs(): Promise<JobInfo[]> {
      return jobs.list();
    },
    cancelJob(id: string): Promise<JobInfo> {
      return jobs.cancel(id);
    },
    resumeJob(id: string): Promise<JobInfo> {
      return jobs.resume(id);
    },
    async ensureDemo(): Promise<DemoOutcome> {
      const file = path.join(workspace.demoDir, DEMO_FILE);
      if (existsSync(file)) {
        const demo = JSON.parse(await readFile(file, 'utf8')) as Omit<
          DemoOutcome & { status: 'ready' },
          'status'
        >;
        if (existsSync(demo.model)) return { status: 'ready', ...demo };
      }
      const running = jobs.activeWriting(workspace.demoDir);
      return { status: 'job', job: running ?? (await startJob({ kind: 'demo' })) };
    },
    ...runs.api(),
    ...evaluations.api(),
    browse(dir?: string): Promise<DirectoryListing> {
      return browseDir(dir === undefined ? undefined : abs(dir));
    },
    describeDataset: (dir: string) => describeDataset(abs(dir)),
    previewImport: (request) =>
      previewImport({
        ...request,
        features: abs(request.features),
        ...(request.text ? { text: absoluteImportText(request.text) } : {}),
        ...(request.outDir ? { outDir: abs(request.outDir) } : {}),
      }),
    subscribe(listener: (event: EngineEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    resolveMedia(id: string) {
      return media.resolve(id);
    },
    async close(): Promise<void> {
      await jobs.close();
      await inspector.close();
      listeners.clear();
      await workspace.flush();
    },
  };
  return engine;
}
