/**
 * A GlimpseApi over any transport that can call a method by name and deliver events: the WebSocket
 * client and the Electron bridge differ only in those two functions.
 */
import type { ApiMethod, EngineEvent, GlimpseApi } from '../../../main/engine/api.ts';

export type CallFn = (method: ApiMethod, args: unknown[]) => Promise<unknown>;
type TypedCall = <M extends ApiMethod>(
  method: M,
  args: Parameters<GlimpseApi[M]>,
) => ReturnType<GlimpseApi[M]>;

export function apiOver(
  untypedCall: CallFn,
  subscribe: (listener: (event: EngineEvent) => void) => () => void,
): GlimpseApi {
  // The transport returns what the engine answered for that method: the one place its type is asserted.
  const call = untypedCall as TypedCall;
  return {
    status: () => call('status', []),
    workspace: () => call('workspace', []),
    openModel: (path) => call('openModel', [path]),
    openDataset: (dir) => call('openDataset', [dir]),
    listVideos: (dir, split) => call('listVideos', [dir, split]),
    openVideo: (path) => call('openVideo', [path]),
    inspect: (request) => call('inspect', [request]),
    frames: (request) => call('frames', [request]),
    startJob: (spec) => call('startJob', [spec]),
    listJobs: () => call('listJobs', []),
    cancelJob: (id) => call('cancelJob', [id]),
    resumeJob: (id) => call('resumeJob', [id]),
    ensureDemo: () => call('ensureDemo', []),
    // browse() and browse(dir) are distinct argument tuples in the schema.
    browse: (dir) => call('browse', (dir === undefined ? [] : [dir]) as Parameters<GlimpseApi['browse']>),
    subscribe,
  };
}
