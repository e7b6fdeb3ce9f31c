// What Electron's processes do with messages, run under Node without the Electron binary: the engine host's
// answers to main (media and recent files) and to renderer calls (validated by the shared schemas) with the
// real engine, and the real preload bundle in a bare CommonJS sandbox whose only module is a stand-in
// 'electron' (the binary is not here), talking to that engine over a real MessageChannel.
import assert from 'node:assert/strict';
import { fork } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import vm from 'node:vm';
import type { EngineEvent, EngineStatus, GlimpseErrorData } from '../../main/engine/api.ts';
import { createEngine, type Engine } from '../../main/engine/engine.ts';
import type { AppCommand, GlimpseBridge } from '../../main/electron/bridge.ts';
import { buildElectronBundles } from '../../main/electron/build.ts';
import { answerHostRequest } from '../../main/electron/engine-host.ts';
import { IPC } from '../../main/electron/messages.ts';
import { dispatchMessage } from '../../main/server/dispatch.ts';
import { REPO_ROOT } from '../support/cli.ts';
import { makeTestVideo } from './media-fixtures.ts';

describe('Electron engine host and preload (no binary)', () => {
  let dir: string;
  let engine: Engine;
  let bundles: string[];
  let bundleDir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-electron-'));
    engine = await createEngine({
      workspace: path.join(dir, 'workspace'),
      transport: 'electron',
      mediaUrl: (id) => `glimpse-media://media/${encodeURIComponent(id)}`,
    });
    // Inside the repository, as dist/electron is: the engine host's bundle loads tsx and h5wasm from
    // node_modules at run time.
    await mkdir(path.join(REPO_ROOT, 'tmp'), { recursive: true });
    bundleDir = await mkdtemp(path.join(REPO_ROOT, 'tmp', 'electron-bundles-'));
    bundles = await buildElectronBundles(bundleDir);
  });
  after(async () => {
    await engine.close();
    await rm(dir, { recursive: true, force: true });
    await rm(bundleDir, { recursive: true, force: true });
  });

  it('answers main: media only for videos the engine opened, and the recent files', async () => {
    const none = await answerHostRequest(engine, {
      type: 'resolve-media',
      requestId: 1,
      id: 'never-registered',
    });
    assert.deepEqual(none, { type: 'media', requestId: 1, media: null });

    const file = await makeTestVideo(path.join(dir, 'clip.avi'), { seconds: 1 });
    const video = await engine.openVideo(file);
    const url = new URL(video.playback.url);
    assert.equal(url.protocol, 'glimpse-media:');
    assert.equal(url.host, 'media');
    const id = decodeURIComponent(url.pathname.slice(1));
    const media = await answerHostRequest(engine, { type: 'resolve-media', requestId: 2, id });
    assert.ok(media?.type === 'media' && media.media !== null);
    assert.deepEqual(media.media, engine.resolveMedia(id));

    const recent = await answerHostRequest(engine, { type: 'recent', requestId: 3 });
    assert.ok(recent?.type === 'recent');
    assert.deepEqual(recent.recent.videos, [path.resolve(file)]);

    assert.equal(await answerHostRequest(engine, { type: 'resolve-media', requestId: 'x', id }), null);
    assert.equal(await answerHostRequest(engine, { type: 'connect' }), null);
  });

  it('validates renderer calls with the shared schemas: bad arguments and unknown methods are bad-request', async () => {
    const ok = await dispatchMessage(engine, { type: 'call', id: 1, method: 'status', args: [] });
    assert.ok(ok.type === 'result' && ok.ok);
    assert.equal((ok.value as EngineStatus).transport, 'electron');

    const cases: Array<[unknown, number, RegExp]> = [
      [{ type: 'call', id: 2, method: 'openModel', args: [] }, 2, /openModel: bad arguments/],
      [
        { type: 'call', id: 3, method: 'openModel', args: [{ path: '/x' }] },
        3,
        /openModel: bad arguments at 0/,
      ],
      [{ type: 'call', id: 4, method: 'constructor', args: [] }, 4, /unknown API method "constructor"/],
      [{ type: 'call', id: 5, method: 'subscribe', args: [] }, 5, /unknown API method/],
      [
        { type: 'call', id: 6, method: 'startJob', args: [{ kind: 'rm', path: '/' }] },
        6,
        /startJob: bad arguments/,
      ],
      [{ type: 'call', id: 7, method: 'cancelJob', args: ['../../etc'] }, 7, /cancelJob: bad arguments/],
      [{ type: 'call', method: 'status', args: [] }, -1, /call id/],
      ['status', -1, /expected a message/],
    ];
    for (const [message, id, pattern] of cases) {
      const answer = await dispatchMessage(engine, message);
      assert.ok(answer.type === 'result' && !answer.ok, JSON.stringify(message));
      assert.equal(answer.id, id);
      assert.equal(answer.error.code, 'bad-request');
      assert.match(answer.error.message, pattern);
    }
  });

  it('bundles main, preload and the engine host entry; the preload needs no module but electron', async () => {
    assert.deepEqual(
      bundles.map((b) => path.basename(b)),
      ['main.cjs', 'preload.cjs', 'engine-host.cjs'],
    );
    const requires = (text: string) =>
      [...new Set([...text.matchAll(/require\("([^"]+)"\)/g)].map((m) => m[1]))].sort();
    const [main, preload, host] = await Promise.all(bundles.map((b) => readFile(b, 'utf8')));
    assert.deepEqual(requires(preload), ['electron']);
    assert.ok(
      requires(main).every((m) => m === 'electron' || m.startsWith('node:')),
      requires(main).join(),
    );
    assert.ok(
      requires(host).every((m) => m.startsWith('node:')),
      requires(host).join(),
    );
    assert.match(host, /import\("tsx\/esm\/api"\)/);
    // The schemas stay out of the window's process: zod would add most of a megabyte.
    assert.ok(preload.length < 200_000 && main.length < 400_000, `${preload.length} / ${main.length}`);
  });

  it('the preload bundle exposes window.glimpse, and calls reach the engine over a MessagePort', async () => {
    const exposed = new Map<string, unknown>();
    const handlers = new Map<string, (event: unknown, ...args: unknown[]) => void>();
    const sent: string[] = [];
    const electron = {
      contextBridge: { exposeInMainWorld: (key: string, api: unknown) => exposed.set(key, api) },
      ipcRenderer: {
        on: (channel: string, handler: (event: unknown, ...args: unknown[]) => void) =>
          handlers.set(channel, handler),
        send: (channel: string) => sent.push(channel),
      },
      webUtils: { getPathForFile: (file: { name: string }) => `/dropped/${file.name}` },
    };
    const code = await readFile(bundles[1], 'utf8');
    const module = { exports: {} };
    const sandbox = {
      module,
      exports: module.exports,
      require: (name: string) => {
        if (name === 'electron') return electron;
        throw new Error(`the sandboxed preload required ${name}`);
      },
    };
    vm.runInNewContext(code, sandbox, { filename: 'preload.cjs' });
    assert.deepEqual(sent, [IPC.connect]);
    const glimpse = exposed.get('glimpse') as GlimpseBridge;
    assert.deepEqual(Object.keys(glimpse).sort(), ['call', 'onAppCommand', 'pathForFile', 'subscribe']);

    // A call made before the port arrives waits for it.
    const early = glimpse.call('status', []);
    const { port1, port2 } = new MessageChannel();
    port2.on('message', (data: unknown) => {
      void dispatchMessage(engine, data).then((answer) => port2.postMessage(answer));
    });
    handlers.get(IPC.port)!({ ports: [port1] });
    assert.equal((await early).transport, 'electron');

    const badFile = path.join(dir, 'not-a-model.h5');
    await writeFile(badFile, 'not HDF5');
    await assert.rejects(glimpse.call('openModel', [badFile]), (err: GlimpseErrorData) => {
      assert.equal(err.code, 'bad-file');
      return true;
    });
    // Checked in the preload already: these never leave the page.
    await assert.rejects(
      glimpse.call('shutdown' as 'status', []),
      (err: GlimpseErrorData) => err.code === 'bad-request',
    );
    await assert.rejects(
      glimpse.call('status', 'x' as unknown as []),
      (err: GlimpseErrorData) => err.code === 'bad-request',
    );

    // Engine events come through to subscribers until they unsubscribe.
    const received: EngineEvent[] = [];
    const unsubscribe = glimpse.subscribe((e) => received.push(e));
    const job = (await engine.listJobs())[0] ?? { id: 'j1' };
    const event = { type: 'event', event: { type: 'job', job } };
    port2.postMessage(event);
    await new Promise((resolve) => setTimeout(resolve, 200));
    unsubscribe();
    port2.postMessage(event);
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.equal(received.length, 1);
    assert.deepEqual(received[0], event.event);

    const commands: AppCommand[] = [];
    const stop = glimpse.onAppCommand((c) => commands.push(c));
    handlers.get(IPC.appCommand)!({}, { type: 'navigate', hash: '#/train' });
    handlers.get(IPC.appCommand)!({}, { type: 'navigate', hash: 'javascript:alert(1)' });
    stop();
    handlers.get(IPC.appCommand)!({}, { type: 'command', name: 'about' });
    assert.deepEqual(commands, [{ type: 'navigate', hash: '#/train' }]);

    assert.equal(glimpse.pathForFile({ name: 'a.mp4' } as unknown as File), '/dropped/a.mp4');
    port1.close();
    port2.close();
  });

  it('the engine host bundle boots the engine from its sources and answers main over the parent port', async () => {
    // Electron gives a utility process `process.parentPort`; here a stand-in relays it over Node's IPC.
    const shim = [
      "const { EventEmitter } = require('node:events');",
      'const port = new EventEmitter();',
      'port.postMessage = (m) => process.send(m);',
      'process.parentPort = port;',
      "process.on('message', (m) => port.emit('message', { data: m, ports: [] }));",
      `require(${JSON.stringify(bundles[2])});`,
    ].join('\n');
    const hostModule = path.join(REPO_ROOT, 'main', 'electron', 'engine-host.ts');
    const workspace = path.join(dir, 'host-workspace');
    // `--` ends node's own options, so the host's flags reach process.argv as in a utility process.
    const child = fork('-e', [shim, '--', '--host-module', hostModule, '--workspace', workspace], {
      execPath: process.execPath,
      execArgv: [],
      cwd: dir,
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    });
    let stderr = '';
    child.stderr!.on('data', (c: Buffer) => (stderr += c.toString()));
    const replies: unknown[] = [];
    const nextReply = () =>
      new Promise<unknown>((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no reply from the engine host: ${stderr}`)),
          120_000,
        );
        child.once('message', (m) => {
          clearTimeout(timer);
          replies.push(m);
          resolve(m);
        });
      });
    try {
      assert.deepEqual(await nextReply(), { type: 'ready' });
      child.send({ type: 'recent', requestId: 7 });
      assert.deepEqual(await nextReply(), {
        type: 'recent',
        requestId: 7,
        recent: { models: [], videos: [], datasets: [] },
      });
      child.send({ type: 'resolve-media', requestId: 8, id: 'unknown' });
      assert.deepEqual(await nextReply(), { type: 'media', requestId: 8, media: null });
    } finally {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });
});
