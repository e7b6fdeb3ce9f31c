/**
 * The messages between Electron's processes, and their checks. Node-free and Electron-free, so the
 * preload bundle can use it and it is unit-tested under Node.
 *
 * - renderer ⇄ engine host, over a MessagePort: the browser-mode messages of common/wire.ts
 *   (ClientMessage / ServerMessage) as structured-clone objects;
 * - main ⇄ renderer over ipc channels: the port hand-over and app commands;
 * - main ⇄ engine host over the utility process's parent port: HostRequest / HostReply.
 */
import { isGlimpseErrorData } from '../../common/error-data.ts';
import type { ServerMessage } from '../../common/wire.ts';
import type { ApiMethod, GlimpseErrorData, RecentFiles } from '../engine/api.ts';
import type { AppCommand } from './bridge.ts';

export const IPC = {
  /** renderer → main: the preload asks for a fresh port to the engine (on every page load). */
  connect: 'glimpse:connect',
  /** main → renderer: the port, in event.ports[0]. */
  port: 'glimpse:port',
  /** main → renderer: an AppCommand. */
  appCommand: 'glimpse:app-command',
} as const;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * The API's method names without the schemas: the schemas (zod) would add ~0.7 MB to the preload and the
 * main bundle, which only need the names. The type below fails to compile if the list misses a method.
 */
const METHOD_NAMES = [
  'status',
  'workspace',
  'openModel',
  'openDataset',
  'listVideos',
  'openVideo',
  'inspect',
  'frames',
  'startJob',
  'listJobs',
  'cancelJob',
  'resumeJob',
  'ensureDemo',
  'browse',
  'evaluation',
  'describeDataset',
  'previewImport',
  'startRun',
  'listRuns',
  'getRun',
  'stopRun',
  'resumeRun',
] as const satisfies readonly ApiMethod[];
const ALL_METHODS_LISTED: Exclude<ApiMethod, (typeof METHOD_NAMES)[number]> extends never ? true : never =
  true;
void ALL_METHODS_LISTED;
const METHODS = new Set<string>(METHOD_NAMES);

/** The preload's shape check of a call before it leaves the page (the engine host validates fully). */
export function callShapeError(method: unknown, args: unknown): GlimpseErrorData | null {
  if (typeof method !== 'string' || !METHODS.has(method))
    return { code: 'bad-request', message: `unknown API method ${JSON.stringify(method)}` };
  if (!Array.isArray(args)) return { code: 'bad-request', message: `${method}: arguments must be an array` };
  return null;
}

/** The preload's check of what arrives on the port. */
export function isServerMessage(value: unknown): value is ServerMessage {
  if (!isRecord(value)) return false;
  if (value.type === 'event') return isRecord(value.event) && typeof value.event.type === 'string';
  if (value.type !== 'result' || typeof value.id !== 'number') return false;
  return value.ok === true ? 'value' in value : value.ok === false && isGlimpseErrorData(value.error);
}

const COMMAND_NAMES = new Set(['open-video', 'open-model', 'open-dataset', 'export', 'shortcuts', 'about']);
const ROLES = new Set(['video', 'model', 'dataset']);

export function isAppCommand(value: unknown): value is AppCommand {
  if (!isRecord(value)) return false;
  switch (value.type) {
    case 'navigate':
      return typeof value.hash === 'string' && value.hash.startsWith('#/') && value.hash.length < 8192;
    case 'command':
      return typeof value.name === 'string' && COMMAND_NAMES.has(value.name);
    case 'open':
      return (
        typeof value.role === 'string' &&
        ROLES.has(value.role) &&
        typeof value.path === 'string' &&
        value.path !== ''
      );
    default:
      return false;
  }
}

/** main → engine host. `connect` carries the renderer's port in the message's ports. */
export type HostRequest =
  | { type: 'connect' }
  | { type: 'resolve-media'; requestId: number; id: string }
  | { type: 'recent'; requestId: number };

/** engine host → main. */
export type HostReply =
  | { type: 'ready' }
  | { type: 'failed'; message: string }
  | { type: 'media'; requestId: number; media: { path: string; contentType: string } | null }
  | { type: 'recent'; requestId: number; recent: RecentFiles };

export function parseHostRequest(value: unknown): HostRequest | null {
  if (!isRecord(value)) return null;
  if (value.type === 'connect') return { type: 'connect' };
  if (!Number.isSafeInteger(value.requestId)) return null;
  const requestId = value.requestId as number;
  if (value.type === 'resolve-media' && typeof value.id === 'string' && value.id.length <= 1024)
    return { type: 'resolve-media', requestId, id: value.id };
  if (value.type === 'recent') return { type: 'recent', requestId };
  return null;
}

export function parseHostReply(value: unknown): HostReply | null {
  if (!isRecord(value)) return null;
  if (value.type === 'ready') return { type: 'ready' };
  if (value.type === 'failed' && typeof value.message === 'string')
    return { type: 'failed', message: value.message };
  if (!Number.isSafeInteger(value.requestId)) return null;
  const requestId = value.requestId as number;
  if (value.type === 'media') {
    const media = value.media;
    if (media === null) return { type: 'media', requestId, media: null };
    if (isRecord(media) && typeof media.path === 'string' && typeof media.contentType === 'string')
      return { type: 'media', requestId, media: { path: media.path, contentType: media.contentType } };
    return null;
  }
  if (value.type === 'recent' && isRecord(value.recent)) {
    const list = (v: unknown) =>
      Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : [];
    const r = value.recent;
    return {
      type: 'recent',
      requestId,
      recent: { models: list(r.models), videos: list(r.videos), datasets: list(r.datasets) },
    };
  }
  return null;
}
