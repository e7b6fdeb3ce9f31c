// The renderer's browser-mode client against a real `glimpse serve` (real engine, real WebSocket): results
// and typed arrays arrive intact, engine errors keep their code and file, and a call in flight when the
// server dies fails with a clear error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import WebSocket from 'ws';
import type { GlimpseApi } from '../../main/engine/api.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { startServe } from '../support/browser.ts';
import { makeLongGopH264 } from '../support/frame-coded-videos.ts';

type Client = GlimpseApi & { close(): void };
// Loaded by URL: the client is DOM code, outside the Node type-check of this folder.
const clientUrl = pathToFileURL(path.join(REPO_ROOT, 'renderer/src/api/websocket-client.ts')).href;

test(
  'browser-mode client: calls, typed arrays, error data, a dropped connection',
  { timeout: 240_000 },
  async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-ws-client-'));
    const serve = await startServe({ workspace: path.join(dir, 'workspace') });
    let api: Client | null = null;
    try {
      // The page's WebSocket, with the cookie the server set when it served the page.
      class PageWebSocket extends WebSocket {
        constructor(url: string) {
          super(url, { headers: { Cookie: `glimpse_token=${serve.token}` } });
          this.on('error', () => {}); // a browser reports a refused connection as a close, not a throw
        }
      }
      (globalThis as Record<string, unknown>).WebSocket = PageWebSocket;
      const { connectWebSocketApi } = (await import(clientUrl)) as {
        connectWebSocketApi(url: string): Client;
      };
      api = connectWebSocketApi(`${serve.origin.replace(/^http/, 'ws')}/api`);

      const status = await api.status();
      assert.equal(status.transport, 'browser');
      assert.ok(status.backend.length > 0);

      // browse() and browse(undefined) are the same call (the schema takes no argument or a path).
      const home = await api.browse(undefined);
      assert.equal((await api.browse()).path, home.path);
      assert.equal((await api.browse(dir)).path, dir);

      const notModel = path.join(dir, 'notes.h5');
      await writeFile(notModel, 'not an HDF5 file');
      await assert.rejects(api.openModel(notModel), (err: unknown) => {
        const data = (err as { data?: { code: string; file?: string } }).data;
        assert.equal(data?.code, 'bad-file');
        assert.equal(data?.file, notModel);
        return true;
      });

      const video = await makeLongGopH264(dir, { seconds: 2 });
      const summary = await api.openVideo(video.path);
      const frames = await api.frames({ path: video.path, indices: [0, 5], width: 64 });
      assert.equal(frames.frames.length, 2);
      assert.ok(frames.frames[0] instanceof Uint8Array);
      assert.equal(frames.frames[0].length, frames.width * frames.height * 4);
      assert.equal(summary.playback.fps, 30);

      // Freeze the server so the call is surely in flight, then kill it.
      serve.child.kill('SIGSTOP');
      const inFlight = api.status();
      await new Promise((r) => setTimeout(r, 300));
      serve.child.kill('SIGKILL');
      await assert.rejects(inFlight, /connection to the engine lost.*may not have completed/);
    } finally {
      api?.close();
      await serve.close();
      await rm(dir, { recursive: true, force: true });
    }
  },
);
