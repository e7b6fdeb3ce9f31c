// The front doors, spawned as a user runs them: `glimpse serve --port 0 --no-open`, and `npm start`
// (bin/start.js), which on a machine where Electron cannot run says why in one line and serves browser mode.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { type AddressInfo, createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { electronBinary } from '../../main/electron/launch.ts';
import { runGlimpse, REPO_ROOT } from '../support/cli.ts';
import { startServe } from '../support/browser.ts';

/** Both commands build the renderer first when its sources changed: minutes on a busy 2-core machine. */
const STARTUP_MS = 300_000;

interface Started {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  exited: Promise<number | null>;
}

/** Spawns a bin/ script (start.js, glimpse.js) and waits for the URL line on stdout. */
async function spawnUntilUrl(
  script: string,
  args: string[],
  env: Record<string, string | undefined>,
): Promise<Started> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, GLIMPSE_BACKEND: 'wasm' };
  for (const [key, value] of Object.entries(env)) {
    if (value === undefined) delete childEnv[key];
    else childEnv[key] = value;
  }
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin', script), ...args], {
    cwd: REPO_ROOT,
    env: childEnv,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no URL within ${STARTUP_MS / 1000} s:\n${stderr}`)),
      STARTUP_MS,
    );
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      const m = /^Glimpse is running at (http:\/\/[0-9.]+:\d+\/\?token=[A-Za-z0-9_-]+)$/m.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    });
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited (${code}) before printing a URL:\n${stdout}\n${stderr}`));
    });
  });
  return { child, url, stdout: () => stdout, stderr: () => stderr, exited };
}

async function assertServesWithTokenOnly(url: string): Promise<void> {
  const page = await fetch(url);
  assert.equal(page.status, 200);
  assert.match(await page.text(), /<html/i);
  assert.match(
    page.headers.get('set-cookie') ?? '',
    /^glimpse_token=[^;]+; HttpOnly; SameSite=Strict; Path=\/$/,
  );
  const origin = new URL(url).origin;
  assert.equal((await fetch(`${origin}/`)).status, 401);
  assert.equal((await fetch(`${origin}/?token=not-the-token`)).status, 401);
}

describe('glimpse serve and npm start', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-start-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  it('glimpse serve --port 0 --no-open prints the URL with its token and serves with it only', async () => {
    const serve = await startServe({ workspace: path.join(dir, 'ws-serve'), timeoutMs: STARTUP_MS });
    try {
      assert.match(
        serve.log(),
        /^Glimpse is running at http:\/\/127\.0\.0\.1:\d+\/\?token=[A-Za-z0-9_-]{43}$/m,
      );
      await assertServesWithTokenOnly(serve.url);
    } finally {
      await serve.close();
    }
  });

  it('glimpse serve refuses a bad port with a usage error', () => {
    const r = runGlimpse(['serve', '--port', '70000', '--no-open']);
    assert.equal(r.code, 2);
    assert.match(
      r.stderr,
      /^glimpse serve: --port must be ≤ 65535, got 70000 \(see glimpse serve --help\)\n$/,
    );
  });

  it('glimpse serve on a port in use fails with one line naming it, and leaves nothing running', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const { port } = blocker.address() as AddressInfo;
    try {
      const r = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const child = spawn(
          process.execPath,
          [
            path.join(REPO_ROOT, 'bin/glimpse.js'),
            'serve',
            '--port',
            String(port),
            '--no-open',
            '--workspace',
            path.join(dir, 'ws-busy'),
          ],
          { cwd: REPO_ROOT, stdio: ['ignore', 'ignore', 'pipe'] },
        );
        let stderr = '';
        child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        child.on('exit', (code) => resolve({ code, stderr }));
      });
      assert.equal(r.code, 1);
      assert.match(r.stderr, new RegExp(`^glimpse serve: .*EADDRINUSE.*127\\.0\\.0\\.1:${port}\n$`, 'm'));
    } finally {
      blocker.close();
    }
  });

  it('glimpse serve --host 0.0.0.0 warns that it is reachable from other machines', async () => {
    const serve = await spawnUntilUrl(
      'glimpse.js',
      ['serve', '--host', '0.0.0.0', '--port', '0', '--no-open', '--workspace', path.join(dir, 'ws-host')],
      {},
    );
    try {
      assert.match(serve.url, /^http:\/\/0\.0\.0\.0:\d+\//);
      // Written before the URL, but on another pipe: give it a moment to arrive.
      for (let i = 0; i < 50 && !serve.stderr().includes('warning'); i++)
        await new Promise((r) => setTimeout(r, 100));
      assert.match(serve.stderr(), /^glimpse: warning: listening on 0\.0\.0\.0, not loopback: /m);
      const port = new URL(serve.url).port;
      assert.equal(
        (await fetch(`http://127.0.0.1:${port}/?token=${new URL(serve.url).searchParams.get('token')}`))
          .status,
        200,
      );
    } finally {
      serve.child.kill('SIGINT');
    }
    assert.equal(await serve.exited, 0);
  });

  const noBinary = electronBinary() === null;

  it(
    'npm start without a binary it can fetch: one line with the download failure, then browser mode',
    { skip: !noBinary },
    async () => {
      // A display is claimed so the download is tried; the mirror refuses connections, so it fails here even
      // on a machine with internet access.
      const app = await spawnUntilUrl('start.js', ['--no-open', '--workspace', path.join(dir, 'ws-start')], {
        DISPLAY: ':99',
        ELECTRON_MIRROR: 'http://127.0.0.1:9/',
        ELECTRON_SKIP_BINARY_DOWNLOAD: '1',
      });
      try {
        const lines = app
          .stderr()
          .split('\n')
          .filter((l) => l.includes('Electron'));
        assert.equal(lines.length, 1, app.stderr());
        assert.match(
          lines[0],
          /^Electron is not available \(binary download failed: .+\); opening browser mode instead$/,
        );
        await assertServesWithTokenOnly(app.url);
      } finally {
        app.child.kill('SIGINT');
      }
      assert.equal(await app.exited, 0);
      assert.match(app.stderr(), /SIGINT, shutting down/);
    },
  );

  it('npm start on a box without a display says so and serves browser mode (GLIMPSE_NO_OPEN)', async () => {
    const app = await spawnUntilUrl('start.js', ['--workspace', path.join(dir, 'ws-start2')], {
      DISPLAY: undefined,
      WAYLAND_DISPLAY: undefined,
      GLIMPSE_NO_OPEN: '1',
    });
    try {
      assert.match(
        app.stderr(),
        /^Electron is not available \(no display: DISPLAY and WAYLAND_DISPLAY are unset\); opening browser mode instead$/m,
      );
      await assertServesWithTokenOnly(app.url);
    } finally {
      app.child.kill('SIGTERM');
    }
    assert.equal(await app.exited, 0);
  });
});
