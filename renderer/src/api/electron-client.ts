/**
 * Electron: the preload exposes `window.glimpse` through contextBridge (main/electron/bridge.ts); the
 * API is its `call` and `subscribe`, and the menus reach the UI through `onAppCommand`.
 */
import type { ApiMethod, GlimpseApi } from '../../../main/engine/api.ts';
import type { AppCommand, GlimpseBridge } from '../../../main/electron/bridge.ts';
import { apiOver } from './glimpse-api.ts';
import { ApiError, toErrorData } from './errors.ts';

export type { AppCommand, GlimpseBridge };

export function bridgeOf(win: Window): GlimpseBridge | null {
  const bridge = (win as Window & { glimpse?: GlimpseBridge }).glimpse;
  return bridge && typeof bridge.call === 'function' ? bridge : null;
}

export function electronApi(bridge: GlimpseBridge): GlimpseApi {
  // apiOver pairs each method with its own arguments; the bridge's per-method typing is restored there.
  const call = bridge.call as (method: ApiMethod, args: unknown[]) => Promise<unknown>;
  return apiOver(
    (method, args) =>
      call(method, args).catch((err: unknown) => {
        // The bridge rejects with plain GlimpseErrorData (Errors lose their fields crossing it).
        throw new ApiError(toErrorData(err));
      }),
    (listener) => bridge.subscribe(listener),
  );
}
