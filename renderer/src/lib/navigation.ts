/**
 * Opening files from the picker, the menus and drag-and-drop: every path ends as an Inspect URL, so
 * the hash stays the one source of what is open. A video or dataset needs a model: the one open now,
 * else the most recent.
 */
import type { AppState, PickerRole } from './app-state.svelte.ts';
import { inspectHash, INSPECT_DEFAULTS, type InspectState, viewHash } from './route.ts';

const MODEL_EXTENSIONS = /\.(h5|npz)$/i;

/** What a dropped file or folder is, as the engine's listing of its folder says; else by its extension. */
export async function roleOfDroppedPath(app: AppState, path: string): Promise<PickerRole> {
  const parent = path.replace(/[\\/][^\\/]*[\\/]?$/, '') || '/';
  try {
    const entry = (await app.api.browse(parent)).entries.find((e) => e.path === path);
    if (entry && entry.role !== 'other') return entry.role;
  } catch {
    // The extension decides.
  }
  return MODEL_EXTENSIONS.test(path) ? 'model' : 'video';
}

function currentInspect(app: AppState): InspectState {
  const r = app.route;
  if (r.view === 'inspect') return r;
  return { model: null, source: null, frame: null, ...INSPECT_DEFAULTS };
}

export function navigate(hash: string): void {
  if (window.location.hash === hash) return;
  window.location.hash = hash;
}

export async function openPath(app: AppState, role: PickerRole, path: string): Promise<void> {
  const now = currentInspect(app);
  const model = now.model ?? app.recent.models[0] ?? null;
  try {
    if (role === 'model') {
      await app.api.openModel(path);
      navigate(inspectHash({ ...now, model: path, frame: null }));
    } else if (role === 'video') {
      if (!model) throw new Error(`open a model first: ${path} is inspected with a model`);
      navigate(inspectHash({ ...now, model, source: { kind: 'video', path }, frame: null }));
    } else if (app.route.view === 'datasets') {
      // The Datasets view shows the folder itself (a feature dataset or videos to extract).
      navigate(viewHash('datasets', { dataset: path }));
    } else {
      const dataset = await app.api.openDataset(path);
      const split = dataset.splits.find((s) => s.name === 'test') ?? dataset.splits[0];
      if (!split) throw new Error(`${path}: the dataset has no splits`);
      const source = { kind: 'dataset', dir: path, split: split.name, index: 0 } as const;
      navigate(inspectHash({ ...now, model, source, frame: null }));
    }
  } catch (err) {
    app.fail(err);
  } finally {
    void app.refreshRecent();
  }
}
