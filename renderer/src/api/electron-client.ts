/**
 * Electron: the preload exposes `window.glimpse` through contextBridge; the API is its `call` and
 * `subscribe`, and the menus reach the UI through `onAppCommand`.
 */
import type { ApiMethod, EngineEvent, GlimpseApi } from '../../../main/engine/api.ts';
import { apiOver } from './glimpse-api.ts';
import { ApiError, toErrorData } from './errors.ts';

/** What the main process sends for menu items, dialogs and dropped files. */
export type AppCommand =
  | { type: 'navigate'; hash: string }
  | {
      type: 'command';
      name: 'open-video' | 'open-model' | 'open-dataset' | 'export' | 'shortcuts' | 'about';
    }
  | { type: 'open'; role: 'video' | 'model' | 'dataset'; path: string };

/** The renderer-facing shape of `window.glimpse` (the preload's contextBridge object). */
export interface GlimpseBridge {
  call(method: ApiMethod, args: unknown[]): Promise<unknown>;
  subscribe(listener: (event: EngineEvent) => void): () => void;
  onAppCommand(listener: (command: AppCommand) => void): () => void;
  pathForFile(file: File): string;
}

export function bridgeOf(win: Window): GlimpseBridge | null {
  const bridge = (win as Window & { glimpse?: GlimpseBridge }).glimpse;
  return bridge && typeof bridge.call === 'function' ? bridge : null;
}

export function electronApi(bridge: GlimpseBridge): GlimpseApi {
  return apiOver(
    (method, args) =>
      bridge.call(method, args).catch((err: unknown) => {
        throw new ApiError(toErrorData(err));
      }),
    (listener) => bridge.subscribe(listener),
  );
}
