/**
 * Browser mode (DESIGN.md "Processes and transports"): the built renderer, the engine's media and the API
 * over one WebSocket, on 127.0.0.1 by default, behind a random token.
 *
 * The token: the printed URL is `http://HOST:PORT/?token=T`. Every HTTP request and the WebSocket handshake
 * must carry it, as the query parameter `token` or the cookie `glimpse_token`; a request with a valid query
 * token is answered with that cookie (HttpOnly, SameSite=Strict), so the page's assets, its media and its
 * WebSocket need no token in their URLs. For the renderer: after load, drop the token from the address bar
 * with `history.replaceState(null, '', location.pathname + location.hash)` (the cookie keeps the session),
 * and open the WebSocket at `ws://${location.host}/api` without a query.
 *
 * While listening on a loopback address, requests whose Host header names anything but a loopback address or
 * localhost are refused (DNS rebinding: a foreign site resolving its own name to 127.0.0.1 must not reach
 * the API).
 */
import { createReadStream, promises as fs } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { decodeMessage, encodeMessage, type ServerMessage } from '../../common/wire.ts';
import type { GlimpseApi } from '../engine/api.ts';
import { GlimpseError } from '../engine/errors.ts';
import { contentSecurityPolicy, SECURITY_HEADERS } from './csp.ts';
import { dispatchMessage, errorResult, UNATTRIBUTED_ID } from './dispatch.ts';
import { parseRange, rangeResponseHead } from './range.ts';
import { contentTypeFor, resolveStaticFile } from './static-files.ts';
import { cookieValue, newToken, sessionCookie, TOKEN_COOKIE, tokenMatches } from './token.ts';

/** What the server needs of the engine: the API plus the media it has opened. */
export type ServedEngine = GlimpseApi & {
  resolveMedia(id: string): { path: string; contentType: string } | null;
};

export interface ServerOptions {
  engine: ServedEngine;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** The built renderer (renderer/dist). */
  rendererDir: string;
  /** Largest WebSocket message accepted; bigger ones close the socket with 1009. Default 16 MiB. */
  maxMessageBytes?: number;
}

export interface RunningServer {
  url: string;
  host: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

export function isLoopbackHost(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

function hostForUrl(host: string): string {
  return host.includes(':') ? `[${host}]` : host;
}

/**
 * The name part of a Host header: 'localhost' for 'localhost:8080', '::1' for '[::1]:8080'. The port is not
 * checked: an SSH tunnel may forward another local port, and a rebinding attack is told apart by its name.
 */
function hostName(header: string): string {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(header);
  if (bracketed) return bracketed[1].toLowerCase();
  return header.replace(/:\d+$/, '').toLowerCase();
}

// Only characters a host:port may hold, so a Host header is safe to repeat in the CSP.
const HOST_HEADER = /^[A-Za-z0-9.\-[\]:]{1,300}$/;

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  const { engine, rendererDir } = options;
  const host = options.host ?? '127.0.0.1';
  const token = newToken();
  const checkHost = isLoopbackHost(host);

  const hostOf = (req: IncomingMessage): string | null => {
    const value = req.headers.host;
    if (!value || !HOST_HEADER.test(value)) return null;
    if (checkHost && !isLoopbackHost(hostName(value))) return null;
    return value;
  };

  const requestToken = (req: IncomingMessage, url: URL): { ok: boolean; fromQuery: boolean } => {
    const query = url.searchParams.get('token');
    if (query !== null) return { ok: tokenMatches(token, query), fromQuery: true };
    return { ok: tokenMatches(token, cookieValue(req.headers.cookie, TOKEN_COOKIE)), fromQuery: false };
  };

  const baseHeaders = (requestHost: string | null): Record<string, string> => ({
    ...SECURITY_HEADERS,
    'Content-Security-Policy': contentSecurityPolicy({
      connect: requestHost ? [`ws://${requestHost}`] : [],
    }),
  });

  const sendText = (res: ServerResponse, status: number, headers: Record<string, string>, text: string) => {
    res.writeHead(status, { ...headers, 'Content-Type': 'text/plain; charset=utf-8' });
    res.end(`${text}\n`);
  };

  const sendFile = async (
    req: IncomingMessage,
    res: ServerResponse,
    headers: Record<string, string>,
    path: string,
    contentType: string,
  ) => {
    const { size } = await fs.stat(path);
    const answer = parseRange(req.headers.range, size);
    const head = rangeResponseHead(answer, size);
    res.writeHead(head.status, { ...headers, ...head.headers, 'Content-Type': contentType });
    if (req.method === 'HEAD' || answer.kind === 'unsatisfiable' || size === 0) {
      res.end();
      return;
    }
    const stream =
      answer.kind === 'partial'
        ? createReadStream(path, { start: answer.start, end: answer.end })
        : createReadStream(path);
    stream.on('error', () => res.destroy());
    res.on('close', () => stream.destroy());
    stream.pipe(res);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const requestHost = hostOf(req);
    const headers = baseHeaders(requestHost);
    if (requestHost === null) return sendText(res, 403, headers, 'Glimpse: Host header not allowed');
    const url = new URL(req.url ?? '/', 'http://glimpse.invalid');
    const auth = requestToken(req, url);
    if (!auth.ok)
      return sendText(res, 401, headers, 'Glimpse: this address needs the token printed by glimpse serve');
    if (auth.fromQuery) headers['Set-Cookie'] = sessionCookie(token);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      headers.Allow = 'GET, HEAD';
      return sendText(res, 405, headers, 'Glimpse: method not allowed');
    }
    headers['Cache-Control'] = 'no-cache';
    const media = /^\/media\/([^/]+)$/.exec(url.pathname);
    if (media) {
      let id: string;
      try {
        id = decodeURIComponent(media[1]);
      } catch {
        return sendText(res, 404, headers, 'Glimpse: no such media');
      }
      const found = engine.resolveMedia(id);
      if (!found) return sendText(res, 404, headers, 'Glimpse: no such media (open the video first)');
      return sendFile(req, res, headers, found.path, found.contentType);
    }
    const file = await resolveStaticFile(rendererDir, url.pathname);
    if (!file) return sendText(res, 404, headers, 'Glimpse: not found');
    return sendFile(req, res, headers, file, contentTypeFor(file));
  };

  const server = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) sendText(res, 500, baseHeaders(null), 'Glimpse: internal error');
      else res.destroy();
    });
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: options.maxMessageBytes ?? 16 * 1024 * 1024,
  });
  const refuse = (socket: Duplex, status: string) => {
    socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
  };
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const url = new URL(req.url ?? '/', 'http://glimpse.invalid');
    if (url.pathname !== '/api') return refuse(socket, '404 Not Found');
    const requestHost = hostOf(req);
    if (requestHost === null || !requestToken(req, url).ok) return refuse(socket, '403 Forbidden');
    // A page from another origin must not drive the API even if it somehow holds the cookie.
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== `http://${requestHost}`) return refuse(socket, '403 Forbidden');
    wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
  });

  const send = (ws: WebSocket, message: ServerMessage) => {
    if (ws.readyState !== ws.OPEN) return;
    let bytes: Uint8Array;
    try {
      bytes = encodeMessage(message);
    } catch (err) {
      // A value the wire cannot carry is the engine's bug; the caller still gets an answer.
      if (message.type !== 'result') return;
      bytes = encodeMessage(errorResult(message.id, err));
    }
    ws.send(bytes, { binary: true });
  };

  wss.on('connection', (ws: WebSocket) => {
    ws.on('error', () => ws.terminate());
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) {
        send(ws, errorResult(UNATTRIBUTED_ID, new GlimpseError('bad-request', 'expected a binary message')));
        return;
      }
      const bytes = Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data as ArrayBuffer);
      let decoded: unknown;
      try {
        decoded = decodeMessage(bytes);
      } catch (err) {
        const line = err instanceof Error ? err.message : String(err);
        send(ws, errorResult(UNATTRIBUTED_ID, new GlimpseError('bad-request', line)));
        return;
      }
      void dispatchMessage(engine, decoded).then((answer) => send(ws, answer));
    });
  });

  const unsubscribe = engine.subscribe((event) => {
    for (const ws of wss.clients) send(ws, { type: 'event', event });
  });

  await new Promise<void>((resolveListen, rejectListen) => {
    server.once('error', rejectListen);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', rejectListen);
      resolveListen();
    });
  });
  const port = (server.address() as AddressInfo).port;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${hostForUrl(host)}:${port}/?token=${token}`,
    host,
    port,
    token,
    close() {
      closing ??= new Promise<void>((resolveClose) => {
        unsubscribe();
        for (const ws of wss.clients) ws.terminate();
        wss.close();
        server.close(() => resolveClose());
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
