/**
 * The API client for this window, chosen once at start-up: the Electron bridge when the preload put
 * `window.glimpse` there, else the browser-mode WebSocket to the page's own host.
 */
import type { GlimpseApi } from '../../../main/engine/api.ts';
import { bridgeOf, electronApi, type GlimpseBridge } from './electron-client.ts';
import { apiUrl, connectWebSocketApi, type ConnectionState } from './websocket-client.ts';

export interface Transport {
  api: GlimpseApi;
  /** Present in Electron only: menus, dialogs and drag-and-drop. */
  bridge: GlimpseBridge | null;
}

export function connectApi(win: Window, onConnection: (state: ConnectionState) => void): Transport {
  const bridge = bridgeOf(win);
  if (bridge) return { api: electronApi(bridge), bridge };
  return { api: connectWebSocketApi(apiUrl(win.location), onConnection), bridge: null };
}

/** Browser mode: the server set the token cookie on this page's load; keep it out of the address bar. */
export function dropTokenFromAddress(win: Window): void {
  const url = new URL(win.location.href);
  if (!url.searchParams.has('token')) return;
  url.searchParams.delete('token');
  win.history.replaceState(win.history.state, '', `${url.pathname}${url.search}${url.hash}`);
}

export type { ConnectionState, GlimpseBridge };
