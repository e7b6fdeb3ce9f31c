// Browser mode over real sockets: HTTP with and without the token, the Host check, security headers,
// static files, Range media, and the API over a real WebSocket answered by the engine.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, type ServerMessage } from '../../common/wire.ts';
import type { EngineEvent, EngineStatus, VideoSummary } from '../../main/engine/api.ts';
import { createEngine, type Engine } from '../../main/engine/engine.ts';
import { type RunningServer, startServer } from '../../main/server/server.ts';
import { makeTestVideo } from './media-fixtures.ts';

interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A raw request, so the Host header and odd paths go out exactly as written. */
function raw(port: number, pathname: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<RawResponse>((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: pathname, method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on('error', reject);
    req.end();
  });
}

describe('browser-mode server', () => {
  let dir: string;
  let engine: Engine;
  let server: RunningServer;
  /** A real video opened by the engine: its playback proxy is what /media serves. */
  let video: VideoSummary;
  let mediaPath: string;
  let mediaUrl: string;
  let media: Buffer;

  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-server-'));
    const dist = path.join(dir, 'dist');
    await mkdir(path.join(dist, 'assets'), { recursive: true });
    await writeFile(path.join(dist, 'index.html'), '<!doctype html><title>Glimpse</title>');
    await writeFile(path.join(dist, 'assets', 'app.js'), 'console.log(1)');
    await writeFile(path.join(dir, 'secret.txt'), 'outside the renderer');
    await writeFile(path.join(dir, 'not-a-model.h5'), 'these bytes are not HDF5');
    engine = await createEngine({
      workspace: path.join(dir, 'workspace'),
      transport: 'browser',
      mediaUrl: (id) => `/media/${encodeURIComponent(id)}`,
    });
    server = await startServer({ engine, rendererDir: dist, maxMessageBytes: 64 * 1024 });
    video = await engine.openVideo(await makeTestVideo(path.join(dir, 'clip.avi'), { seconds: 1 }));
    mediaUrl = video.playback.url;
    const id = decodeURIComponent(mediaUrl.replace(/^\/media\//, ''));
    const found = engine.resolveMedia(id);
    assert.ok(found, 'the engine registered the proxy it returned');
    mediaPath = found.path;
    media = await readFile(mediaPath);
    assert.ok(media.length > 1000);
  });
  after(async () => {
    await server.close();
    await engine.close();
    await rm(dir, { recursive: true, force: true });
  });

  const withToken = (p: string) => `${p}${p.includes('?') ? '&' : '?'}token=${server.token}`;
  const cookie = () => ({ Cookie: `glimpse_token=${server.token}` });

  it('prints a loopback URL with a 256-bit token and listens on 127.0.0.1', async () => {
    assert.equal(server.host, '127.0.0.1');
    assert.match(
      server.url,
      new RegExp(`^http://127\\.0\\.0\\.1:${server.port}/\\?token=[A-Za-z0-9_-]{43}$`),
    );
    const other = Object.values(os.networkInterfaces())
      .flat()
      .find((a) => a && a.family === 'IPv4' && !a.internal);
    if (other) {
      await assert.rejects(
        new Promise((resolve, reject) => {
          const req = request({ host: other.address, port: server.port, path: '/' }, resolve);
          req.on('error', reject);
          req.end();
        }),
        /ECONNREFUSED/,
      );
    }
  });

  it('refuses requests without the right token with 401, and still sends the security headers', async () => {
    for (const target of ['/', '/assets/app.js', mediaUrl, '/?token=wrong']) {
      const res = await raw(server.port, target);
      assert.equal(res.status, 401, target);
      assert.match(String(res.headers['content-security-policy']), /default-src 'self'/);
      assert.equal(res.headers['x-content-type-options'], 'nosniff');
    }
    const res = await raw(server.port, '/', { Cookie: 'glimpse_token=wrong' });
    assert.equal(res.status, 401);
  });

  it('serves index.html with the query token and sets the SameSite cookie', async () => {
    const res = await raw(server.port, withToken('/'));
    assert.equal(res.status, 200);
    assert.match(res.body.toString(), /<title>Glimpse<\/title>/);
    assert.equal(res.headers['content-type'], 'text/html; charset=utf-8');
    assert.deepEqual(res.headers['set-cookie'], [
      `glimpse_token=${server.token}; HttpOnly; SameSite=Strict; Path=/`,
    ]);
    assert.equal(
      res.headers['content-security-policy'],
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data:; " +
        `media-src 'self' blob:; connect-src 'self' ws://127.0.0.1:${server.port}; object-src 'none'; ` +
        "base-uri 'none'; frame-ancestors 'none'",
    );
    assert.equal(res.headers['referrer-policy'], 'no-referrer');
    assert.equal(res.headers['x-content-type-options'], 'nosniff');
  });

  it('serves assets with the cookie alone, and never a file outside the renderer', async () => {
    const res = await raw(server.port, '/assets/app.js', cookie());
    assert.equal(res.status, 200);
    assert.equal(res.body.toString(), 'console.log(1)');
    assert.equal(res.headers['set-cookie'], undefined);
    for (const target of [
      '/../secret.txt',
      '/%2e%2e/secret.txt',
      '/assets/..%2f..%2fsecret.txt',
      '/nope.js',
    ]) {
      const r = await raw(server.port, target, cookie());
      assert.equal(r.status, 404, target);
      assert.doesNotMatch(r.body.toString(), /outside the renderer/);
    }
    assert.equal((await raw(server.port, '/', cookie(), 'POST')).status, 405);
  });

  it('refuses foreign Host headers on loopback (DNS rebinding), accepts localhost', async () => {
    const evil = await raw(server.port, withToken('/'), { Host: `evil.example:${server.port}` });
    assert.equal(evil.status, 403);
    for (const host of [
      `localhost.evil.example:${server.port}`,
      'evil.example',
      `127.0.0.1.nip.io:${server.port}`,
    ])
      assert.equal((await raw(server.port, withToken('/'), { Host: host })).status, 403, host);
    // Any port: an SSH tunnel may forward another local port to this one.
    for (const host of ['localhost:9000', '127.0.0.1', '[::1]:8080'])
      assert.equal((await raw(server.port, withToken('/'), { Host: host })).status, 200, host);
    const local = await raw(server.port, withToken('/'), { Host: `localhost:${server.port}` });
    assert.equal(local.status, 200);
    assert.match(
      String(local.headers['content-security-policy']),
      new RegExp(`ws://localhost:${server.port}`),
    );
  });

  it('with a non-loopback host (--host), takes any well-formed Host and names it in the CSP', async () => {
    const open = await startServer({ engine, host: '0.0.0.0', rendererDir: path.join(dir, 'dist') });
    try {
      const res = await raw(open.port, `/?token=${open.token}`, { Host: `gpu-box.lan:${open.port}` });
      assert.equal(res.status, 200);
      assert.match(
        String(res.headers['content-security-policy']),
        new RegExp(`ws://gpu-box\\.lan:${open.port};`),
      );
      const odd = await raw(open.port, `/?token=${open.token}`, { Host: 'a b' });
      assert.equal(odd.status, 403);
      assert.equal((await raw(open.port, '/', { Host: `gpu-box.lan:${open.port}` })).status, 401);
    } finally {
      await open.close();
    }
  });

  it('serves registered media with Range support: 200, 206 with the right bytes, HEAD, 416; 404 otherwise', async () => {
    assert.match(mediaUrl, /^\/media\/[^/]+$/);
    const full = await raw(server.port, mediaUrl, cookie());
    assert.equal(full.status, 200);
    assert.equal(
      full.headers['content-type'],
      engine.resolveMedia(decodeURIComponent(mediaUrl.slice(7)))?.contentType,
    );
    assert.equal(full.headers['accept-ranges'], 'bytes');
    assert.deepEqual(full.body, media);

    const part = await raw(server.port, mediaUrl, { ...cookie(), Range: 'bytes=100-1099' });
    assert.equal(part.status, 206);
    assert.equal(part.headers['content-range'], `bytes 100-1099/${media.length}`);
    assert.deepEqual(part.body, media.subarray(100, 1100));

    const open = await raw(server.port, mediaUrl, { ...cookie(), Range: 'bytes=9000-' });
    assert.equal(open.status, 206);
    assert.deepEqual(open.body, media.subarray(9000));

    const suffix = await raw(server.port, mediaUrl, { ...cookie(), Range: 'bytes=-10' });
    assert.deepEqual(suffix.body, media.subarray(media.length - 10));

    const head = await raw(server.port, mediaUrl, { ...cookie(), Range: 'bytes=0-9' }, 'HEAD');
    assert.equal(head.status, 206);
    assert.equal(head.headers['content-length'], '10');
    assert.equal(head.body.length, 0);

    const tail = media.length - 10;
    const last = await raw(server.port, mediaUrl, {
      ...cookie(),
      Range: `bytes=${tail}-${media.length + 50}`,
    });
    assert.equal(last.headers['content-range'], `bytes ${tail}-${media.length - 1}/${media.length}`);

    const beyond = await raw(server.port, mediaUrl, { ...cookie(), Range: `bytes=${media.length}-` });
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers['content-range'], `bytes */${media.length}`);

    assert.equal((await raw(server.port, '/media/unknown', cookie())).status, 404);
    assert.equal((await raw(server.port, '/media/%E0%A4%A', cookie())).status, 404);
  });

  describe('WebSocket API', () => {
    const wsUrl = () => `ws://127.0.0.1:${server.port}/api`;

    function handshake(url: string, headers: Record<string, string> = {}) {
      return new Promise<{ status: number; ws?: WebSocket }>((resolve) => {
        const ws = new WebSocket(url, { headers });
        ws.on('open', () => resolve({ status: 101, ws }));
        ws.on('unexpected-response', (_req, res) => resolve({ status: res.statusCode ?? 0 }));
        ws.on('error', () => resolve({ status: -1 }));
      });
    }

    async function connect(): Promise<WebSocket> {
      const { status, ws } = await handshake(wsUrl(), cookie());
      assert.equal(status, 101);
      return ws!;
    }

    function next(ws: WebSocket): Promise<ServerMessage> {
      return new Promise((resolve) =>
        ws.once('message', (data: Buffer) => resolve(decodeMessage(data) as ServerMessage)),
      );
    }

    async function call(ws: WebSocket, id: number, method: unknown, args: unknown): Promise<ServerMessage> {
      const answer = next(ws);
      ws.send(encodeMessage({ type: 'call', id, method, args } as never));
      return answer;
    }

    it('refuses the handshake without the token (403), with a wrong one, a foreign Origin or Host', async () => {
      assert.equal((await handshake(wsUrl())).status, 403);
      assert.equal((await handshake(`${wsUrl()}?token=wrong`)).status, 403);
      assert.equal((await handshake(wsUrl(), { Cookie: 'glimpse_token=nope' })).status, 403);
      assert.equal((await handshake(wsUrl(), { ...cookie(), Origin: 'http://evil.example' })).status, 403);
      assert.equal((await handshake(wsUrl(), { ...cookie(), Host: 'evil.example' })).status, 403);
      const ok = await handshake(`${wsUrl()}?token=${server.token}`, {
        Origin: `http://127.0.0.1:${server.port}`,
      });
      assert.equal(ok.status, 101);
      ok.ws!.close();
    });

    it('answers calls with results and engine errors, with their codes', async () => {
      const ws = await connect();
      const status = await call(ws, 1, 'status', []);
      assert.equal(status.type, 'result');
      assert.ok(status.type === 'result' && status.ok && status.id === 1);
      assert.equal((status.value as EngineStatus).transport, 'browser');
      assert.equal((status.value as EngineStatus).workspace, path.join(dir, 'workspace'));

      const notModel = path.join(dir, 'not-a-model.h5');
      const bad = await call(ws, 2, 'openModel', [notModel]);
      assert.ok(bad.type === 'result' && !bad.ok);
      assert.equal(bad.id, 2);
      assert.equal(bad.error.code, 'bad-file');
      assert.match(bad.error.message, /not-a-model\.h5/);

      const missing = await call(ws, 3, 'openVideo', [path.join(dir, 'missing.mp4')]);
      assert.ok(missing.type === 'result' && !missing.ok);
      assert.equal(missing.error.code, 'not-found');
      ws.close();
    });

    it('broadcasts engine events (job progress) to connected clients', async () => {
      const ws = await connect();
      const events: EngineEvent[] = [];
      const failed = new Promise<void>((resolve) =>
        ws.on('message', (data: Buffer) => {
          const message = decodeMessage(data) as ServerMessage;
          if (message.type !== 'event') return;
          events.push(message.event);
          if (message.event.type === 'job' && message.event.job.state === 'failed') resolve();
        }),
      );
      ws.send(
        encodeMessage({
          type: 'call',
          id: 10,
          method: 'startJob',
          args: [
            { kind: 'export-npz', model: path.join(dir, 'not-a-model.h5'), out: path.join(dir, 'x.npz') },
          ],
        }),
      );
      await failed;
      assert.ok(events.every((e) => e.type === 'job' && e.job.kind === 'export-npz'));
      ws.close();
    });

    it('answers unknown methods, bad arguments and malformed messages with bad-request, and keeps going', async () => {
      const ws = await connect();
      const unknown = await call(ws, 3, 'deleteEverything', []);
      assert.ok(unknown.type === 'result' && !unknown.ok && unknown.id === 3);
      assert.equal(unknown.error.code, 'bad-request');
      assert.match(unknown.error.message, /unknown API method "deleteEverything"/);

      const badArgs = await call(ws, 4, 'openModel', [42]);
      assert.ok(badArgs.type === 'result' && !badArgs.ok && badArgs.id === 4);
      assert.equal(badArgs.error.code, 'bad-request');

      const noArray = await call(ws, 5, 'status', 'x');
      assert.ok(noArray.type === 'result' && !noArray.ok && noArray.error.code === 'bad-request');

      const text = next(ws);
      ws.send('{"type":"call"}');
      const textAnswer = await text;
      assert.ok(textAnswer.type === 'result' && !textAnswer.ok && textAnswer.id === -1);
      assert.equal(textAnswer.error.code, 'bad-request');

      const garbage = next(ws);
      ws.send(Buffer.from([0xff, 0xff, 0xff, 0x7f, 1, 2]));
      const garbageAnswer = await garbage;
      assert.ok(
        garbageAnswer.type === 'result' && !garbageAnswer.ok && garbageAnswer.error.code === 'bad-request',
      );

      const again = await call(ws, 6, 'status', []);
      assert.ok(again.type === 'result' && again.ok);
      ws.close();
    });

    it('answers a result the wire cannot carry with an internal error instead of crashing', async () => {
      // The real engine never returns such a value; one method is swapped to get one (a BigInt).
      const broken = { ...engine, status: async () => ({ n: 1n }) as unknown as EngineStatus };
      const other = await startServer({ engine: broken, rendererDir: path.join(dir, 'dist') });
      try {
        const { status, ws } = await handshake(`ws://127.0.0.1:${other.port}/api?token=${other.token}`);
        assert.equal(status, 101);
        const answer = await call(ws!, 1, 'status', []);
        assert.ok(answer.type === 'result' && !answer.ok && answer.id === 1);
        assert.equal(answer.error.code, 'internal');
        assert.match(answer.error.message, /BigInt/);
        const fine = await call(ws!, 2, 'workspace', []);
        assert.ok(fine.type === 'result' && fine.ok);
        ws!.close();
      } finally {
        await other.close();
      }
    });

    it('closes the socket with 1009 on an oversized message, and the server keeps serving', async () => {
      const ws = await connect();
      const closed = new Promise<number>((resolve) => ws.on('close', (code) => resolve(code)));
      ws.send(Buffer.alloc(128 * 1024));
      assert.equal(await closed, 1009);
      const ws2 = await connect();
      const status = await call(ws2, 7, 'status', []);
      assert.ok(status.type === 'result' && status.ok);
      ws2.close();
    });
  });
});
