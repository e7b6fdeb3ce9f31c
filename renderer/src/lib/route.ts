/**
 * The URL hash as state (DESIGN.md "Addressable state"): `#/view?key=value&...`, values URL-encoded,
 * paths absolute. Parsing never throws: a malformed value is dropped and the view falls back to its
 * default, so a bookmark from an older version still opens.
 */
import type { Colormap, InspectSource } from '../../../main/engine/api.ts';
import { COLORMAPS as ALL_COLORMAPS } from '../../../common/colormaps.ts';

export const VIEWS = ['inspect', 'compare', 'evaluate', 'train', 'datasets'] as const;
export type ViewName = (typeof VIEWS)[number];

/** The overlay's colour maps: the shared ones but the diverging map (kept for comparisons). */
export const COLORMAPS: readonly Colormap[] = ALL_COLORMAPS.filter((c): c is Colormap => c !== 'rdbu');

export interface InspectState {
  model: string | null;
  source: InspectSource | null;
  frame: number | null;
  colormap: Colormap;
  opacity: number;
  smooth: boolean;
}

export const INSPECT_DEFAULTS = { colormap: 'viridis', opacity: 0.6, smooth: false } as const;

export type Route =
  | { view: 'home' }
  | ({ view: 'inspect' } & InspectState)
  | { view: Exclude<ViewName, 'inspect'>; params: Record<string, string> };

function nonNegativeInt(value: string | null): number | null {
  if (value === null || !/^\d+$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}

export function parseRoute(hash: string): Route {
  const body = hash.replace(/^#\/?/, '');
  if (body === '') return { view: 'home' };
  const q = body.indexOf('?');
  const name = q < 0 ? body : body.slice(0, q);
  const params = new URLSearchParams(q < 0 ? '' : body.slice(q + 1));
  if (!(VIEWS as readonly string[]).includes(name)) return { view: 'home' };
  const view = name as ViewName;
  if (view !== 'inspect') return { view, params: Object.fromEntries(params) };

  const video = params.get('video');
  const dataset = params.get('dataset');
  const split = params.get('split');
  const index = nonNegativeInt(params.get('index'));
  const source: InspectSource | null = video
    ? { kind: 'video', path: video }
    : dataset && split && index !== null
      ? { kind: 'dataset', dir: dataset, split, index }
      : null;
  const colormap = params.get('colormap');
  const opacity = Number(params.get('opacity') ?? NaN);
  const smooth = params.get('smooth');
  return {
    view,
    model: params.get('model') || null,
    source,
    frame: nonNegativeInt(params.get('frame')),
    colormap: (COLORMAPS as readonly string[]).includes(colormap ?? '')
      ? (colormap as Colormap)
      : INSPECT_DEFAULTS.colormap,
    opacity: Number.isFinite(opacity) && opacity >= 0 && opacity <= 1 ? opacity : INSPECT_DEFAULTS.opacity,
    smooth: smooth === null ? INSPECT_DEFAULTS.smooth : smooth === '1',
  };
}

function query(pairs: [string, string | number | null | undefined][]): string {
  const parts = pairs
    .filter((p): p is [string, string | number] => p[1] !== null && p[1] !== undefined)
    .map(([k, v]) => `${k}=${encodeURIComponent(String(v))}`);
  return parts.length > 0 ? `?${parts.join('&')}` : '';
}

/** The hash of an Inspect state; overlay settings at their defaults are left out. */
export function inspectHash(state: InspectState): string {
  const s = state.source;
  return `#/inspect${query([
    ['model', state.model],
    ...(s?.kind === 'video'
      ? [['video', s.path] as [string, string]]
      : s?.kind === 'dataset'
        ? ([
            ['dataset', s.dir],
            ['split', s.split],
            ['index', s.index],
          ] as [string, string | number][])
        : []),
    ['frame', state.frame],
    ['colormap', state.colormap === INSPECT_DEFAULTS.colormap ? null : state.colormap],
    ['opacity', state.opacity === INSPECT_DEFAULTS.opacity ? null : Number(state.opacity.toFixed(2))],
    ['smooth', state.smooth === INSPECT_DEFAULTS.smooth ? null : state.smooth ? 1 : 0],
  ])}`;
}

export function viewHash(view: ViewName, params: Record<string, string> = {}): string {
  return `#/${view}${query(Object.entries(params))}`;
}
