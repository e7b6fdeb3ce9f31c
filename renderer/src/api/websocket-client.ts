/**
 * Browser mode: GlimpseApi over one WebSocket to `/api` of the page's own host, in the common/wire.ts
 * format. The server authenticates the handshake by the `glimpse_token` cookie it set when the page was
 * loaded with `?token=`. The socket reconnects with backoff; calls in flight when it drops fail with a
 * clear error (the engine may or may not have run them), calls made while it is down wait for it.
 */
import type { ApiMethod, EngineEvent, GlimpseApi } from '../../../main/engine/api.ts';
import { decodeMessage, encodeMessage, type ServerMessage } from '../../../common/wire.ts';
import { apiOver } from './glimpse-api.ts';
import { isGlimpseErrorData } from '../../../common/error-data.ts';
import { ApiError } from './errors.ts';

interface Pending {
  resolve(value: unknown): void;
  reject(error: ApiError): void;
}

export interface ConnectionState {
  connected: boolean;
  /** Why the last connection ended, when it did. */
  reason: string | null;
}

const MAX_BACKOFF_MS = 8000;
/** How long a call waits for a connection before it fails. */
const CONNECT_TIMEOUT_MS = 15000;

function isServerMessage(value: unknown): value is ServerMessage {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  if (v.type === 'event') return v.event !== null && typeof v.event === 'object';
  return v.type === 'result' && typeof v.id === 'number' && typeof v.ok === 'boolean';
}

export function apiUrl(location: Location): string {
  return `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`;
}

/** The client; close() stops it for good (pending calls fail, no reconnect). */
export type WebSocketApi = GlimpseApi & { close(): void };

export function connectWebSocketApi(
  url: string,
  onConnection: (state: ConnectionState) => void = () => {},
): WebSocketApi {
  const pending = new Map<number, Pending>();
  const listeners = new Set<(event: EngineEvent) => void>();
  const waiting: (() => void)[] = [];
  let nextId = 1;
  let socket: WebSocket | null = null;
  let open = false;
  let closed = false;
  let backoff = 250;
  let retry: ReturnType<typeof setTimeout> | undefined;

  function failAll(message: string): void {
    for (const p of pending.values()) p.reject(new ApiError({ code: 'internal', message }));
    pending.clear();
  }

  function onMessage(data: unknown): void {
    if (!(data instanceof ArrayBuffer)) return;
    let message: unknown;
    try {
      message = decodeMessage(new Uint8Array(data));
    } catch {
      return;
    }
    if (!isServerMessage(message)) return;
    if (message.type === 'event') {
      for (const listener of listeners) listener(message.event);
      return;
    }
    const p = pending.get(message.id);
    if (!p) return;
    pending.delete(message.id);
    if (message.ok) p.resolve(message.value);
    else
      p.reject(
        new ApiError(
          isGlimpseErrorData(message.error)
            ? message.error
            : { code: 'internal', message: 'malformed error reply' },
        ),
      );
  }

  function connect(): void {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    socket = ws;
    ws.onopen = () => {
      open = true;
      backoff = 250;
      onConnection({ connected: true, reason: null });
      for (const resume of waiting.splice(0)) resume();
    };
    ws.onmessage = (e) => onMessage(e.data);
    ws.onclose = (e) => {
      const wasOpen = open;
      open = false;
      socket = null;
      const reason = wasOpen
        ? `connection to the engine lost (${e.reason || `code ${e.code}`})`
        : 'cannot reach the engine (is glimpse serve running, and was the page opened with its token?)';
      failAll(`${reason}; the call may not have completed`);
      if (closed) return;
      onConnection({ connected: false, reason });
      retry = setTimeout(connect, backoff);
      backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
    };
  }

  function whenOpen(): Promise<void> {
    if (open) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const i = waiting.indexOf(ready);
        if (i >= 0) waiting.splice(i, 1);
        reject(new ApiError({ code: 'internal', message: 'no connection to the engine' }));
      }, CONNECT_TIMEOUT_MS);
      const ready = () => {
        clearTimeout(timer);
        resolve();
      };
      waiting.push(ready);
    });
  }

  async function call(method: ApiMethod, args: unknown[]): Promise<unknown> {
    if (closed) throw new ApiError({ code: 'internal', message: 'the API client is closed' });
    await whenOpen();
    if (closed || !socket) throw new ApiError({ code: 'internal', message: 'the API client is closed' });
    const ws = socket;
    const id = nextId++;
    // encodeMessage allocates a plain ArrayBuffer; its declared type admits shared ones too.
    const bytes = encodeMessage({ type: 'call', id, method, args }) as Uint8Array<ArrayBuffer>;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(bytes);
    });
  }

  connect();
  return apiOver(
    call,
    (listener) => {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    {
      close() {
        closed = true;
        clearTimeout(retry);
        socket?.close();
        failAll('the API client is closed');
        for (const resume of waiting.splice(0)) resume();
      },
    },
  );
}
