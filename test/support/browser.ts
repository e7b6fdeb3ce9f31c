/**
 * What the end-to-end tests drive: Debian's chromium through playwright-core (headless, or headed in an
 * Xvfb display), the real `glimpse serve` as a child process, and a WebSocket client of the API so a test
 * can compare what the UI shows with what the engine answers. Tests use only the hooks DESIGN.md fixes
 * ("Test hooks"): data-view, aria-busy, data-frame, aria-label="video frame" and the controls' names.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Locator, Page } from 'playwright-core';
import WebSocket from 'ws';
import { decodeMessage, encodeMessage, type ServerMessage } from '../../common/wire.ts';
import type { ApiMethod, EngineEvent, GlimpseApi, GlimpseErrorData, JobInfo } from '../../main/engine/api.ts';
import { decodeFrames } from '../../main/media/decode.ts';
import { locateFfmpeg } from '../../main/media/locate.ts';
import { probeVideo } from '../../main/media/probe.ts';
import { runTool } from '../../main/media/tool-process.ts';
import { REPO_ROOT } from './cli.ts';
import { readFrameCode } from './frame-coded-videos.ts';

export { HAVE_CHROMIUM, launchChromium, type LaunchOptions } from '../../main/bench/chromium.ts';

// ---------------------------------------------------------------------------------------------------
// glimpse serve

export interface ServeHandle {
  /** The URL serve printed, token included. */
  url: string;
  /** http://127.0.0.1:PORT */
  origin: string;
  token: string;
  child: ChildProcess;
  /** What serve wrote so far (stdout and stderr), for failure messages. */
  log(): string;
  close(): Promise<void>;
}

export interface ServeOptions {
  workspace: string;
  env?: Record<string, string>;
  /** Serve builds the renderer when it has to: minutes on a busy 2-core machine. */
  timeoutMs?: number;
}

/** Starts `node bin/glimpse.js serve --port 0 --no-open --workspace DIR` and waits for its URL. */
export async function startServe(options: ServeOptions): Promise<ServeHandle> {
  const { workspace, env = {}, timeoutMs = 300_000 } = options;
  await mkdir(workspace, { recursive: true });
  const child = spawn(
    process.execPath,
    [path.join(REPO_ROOT, 'bin/glimpse.js'), 'serve', '--port', '0', '--no-open', '--workspace', workspace],
    { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  // Never outlive the test process, however it ends.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      process.off('exit', killOnExit);
      resolve(code);
    }),
  );
  const close = async () => {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new Error(`glimpse serve printed no URL within ${timeoutMs / 1000} s:\n${output.slice(-2000)}`));
    }, timeoutMs);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      const m = /https?:\/\/[^\s'"]+[?&#]token=[^\s'"]+/.exec(output);
      if (m) {
        clearTimeout(timer);
        resolve(m[0]);
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`glimpse serve exited (${code}) before printing a URL:\n${output.slice(-2000)}`));
    });
  }).catch(async (err: unknown) => {
    await close();
    throw err;
  });
  const parsed = new URL(url);
  const token =
    parsed.searchParams.get('token') ??
    new URLSearchParams(parsed.hash.replace(/^#[^?]*\?/, '')).get('token');
  if (!token) throw new Error(`no token in the URL serve printed: ${url}`);
  return { url, origin: parsed.origin, token, child, log: () => output, close };
}

// ---------------------------------------------------------------------------------------------------
// The API over the WebSocket, as the renderer calls it

/** A rejected call, with the engine's error data. */
export class ApiCallError extends Error {
  readonly data: GlimpseErrorData;
  constructor(data: GlimpseErrorData) {
    super(`${data.code}: ${data.message}`);
    this.data = data;
  }
}

type Result<M extends ApiMethod> = Awaited<ReturnType<GlimpseApi[M]>>;

export class ApiClient {
  readonly events: EngineEvent[] = [];
  /** Errors the server could not attribute to a call (a message it could not even decode). */
  readonly unattributed: GlimpseErrorData[] = [];
  private readonly pending = new Map<number, (message: ServerMessage) => void>();
  private readonly listeners = new Set<(event: EngineEvent) => void>();
  private nextId = 1;

  private constructor(private readonly socket: WebSocket) {
    socket.on('message', (data: Buffer) => {
      const message = decodeMessage(new Uint8Array(data)) as ServerMessage;
      if (message.type === 'event') {
        this.events.push(message.event);
        for (const listener of this.listeners) listener(message.event);
        return;
      }
      const settle = this.pending.get(message.id);
      if (settle) {
        settle(message);
        this.pending.delete(message.id);
      } else if (!message.ok) {
        this.unattributed.push(message.error);
      }
    });
    socket.on('close', () => {
      for (const settle of this.pending.values()) {
        settle({ type: 'result', id: 0, ok: false, error: { code: 'internal', message: 'socket closed' } });
      }
      this.pending.clear();
    });
  }

  /** Connects to `/api` with the token in the cookie the page gets (as the renderer does). */
  static async connect(serve: Pick<ServeHandle, 'origin' | 'token'>): Promise<ApiClient> {
    const socket = new WebSocket(`${serve.origin.replace(/^http/, 'ws')}/api`, {
      headers: { Cookie: `glimpse_token=${serve.token}` },
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
      socket.once('unexpected-response', (_req, res) =>
        reject(new Error(`handshake refused: ${res.statusCode}`)),
      );
    });
    return new ApiClient(socket);
  }

  call<M extends ApiMethod>(method: M, ...args: Parameters<GlimpseApi[M]>): Promise<Result<M>> {
    return this.callRaw(method, args) as Promise<Result<M>>;
  }

  /** Any method name and arguments, unchecked: for malformed calls. */
  callRaw(method: string, args: unknown[]): Promise<unknown> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, (message) => {
        if (message.type !== 'result') return;
        if (message.ok) resolve(message.value);
        else reject(new ApiCallError(message.error));
      });
      // The method is cast only so that malformed names reach the server as they are.
      this.socket.send(encodeMessage({ type: 'call', id, method: method as ApiMethod, args }));
    });
  }

  /** Raw bytes, for messages that are not even the wire format. */
  sendBytes(bytes: Uint8Array): void {
    this.socket.send(bytes);
  }

  onEvent(listener: (event: EngineEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Resolves when the job has ended (done, failed, cancelled); polls as well as listening. */
  async waitForJob(id: string, timeoutMs = 600_000): Promise<JobInfo> {
    const ended = (job: JobInfo) => ['done', 'failed', 'cancelled', 'interrupted'].includes(job.state);
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const job = (await this.call('listJobs')).find((j) => j.id === id);
      if (!job) throw new Error(`job ${id} is not in the job list`);
      if (ended(job)) return job;
      if (Date.now() > deadline)
        throw new Error(`job ${id} (${job.kind}) still ${job.state} after ${timeoutMs / 1000} s`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, 2000);
        const off = this.onEvent((event) => {
          if (event.type === 'job' && event.job.id === id && ended(event.job)) done();
        });
        function done() {
          clearTimeout(timer);
          off();
          resolve();
        }
      });
    }
  }

  close(): void {
    this.socket.close();
  }
}

/** The HTTP status the WebSocket handshake to `/api` gets with these headers (101 when it is accepted). */
export async function handshakeStatus(origin: string, headers: Record<string, string> = {}): Promise<number> {
  const socket = new WebSocket(`${origin.replace(/^http/, 'ws')}/api`, { headers });
  return new Promise((resolve, reject) => {
    socket.once('open', () => {
      socket.close();
      resolve(101);
    });
    socket.once('unexpected-response', (_req, res) => {
      res.resume();
      socket.terminate();
      resolve(res.statusCode ?? 0);
    });
    socket.once('error', (err) => reject(err));
  });
}

// ---------------------------------------------------------------------------------------------------
// The page, through the fixed test hooks

/**
 * The DOM as the in-page functions below use it. The project's tsconfig has no DOM library (Node code
 * must not see browser globals), so these functions see the page through this narrow shape.
 */
interface PageElement {
  tagName: string;
  getAttribute(name: string): string | null;
  closest(selector: string): PageElement | null;
  querySelectorAll(selector: string): ArrayLike<PageElement>;
  getBoundingClientRect(): { left: number; top: number; width: number; height: number };
  videoWidth?: number;
  videoHeight?: number;
  naturalWidth?: number;
  naturalHeight?: number;
  width?: number;
  height?: number;
}
interface Page2d {
  imageSmoothingEnabled: boolean;
  drawImage(source: PageElement, x: number, y: number, w: number, h: number): void;
  getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
}
interface PageDocument {
  querySelector(selector: string): PageElement | null;
  createElement(tag: 'canvas'): PageElement & { getContext(kind: '2d'): Page2d | null };
}

export const FRAME_SELECTOR = '[aria-label="video frame"]';

/** Waits until the view is shown and has finished loading (aria-busy="false"). */
export async function waitForView(page: Page, name: string, timeoutMs = 120_000): Promise<Locator> {
  const view = page.locator(`[data-view="${name}"][aria-busy="false"]`);
  await view.waitFor({ state: 'visible', timeout: timeoutMs });
  return view;
}

/** data-frame of the player. */
export async function dataFrame(page: Page): Promise<number> {
  const value = await page.locator('[data-frame]').first().getAttribute('data-frame');
  if (value === null || !/^\d+$/.test(value)) throw new Error(`data-frame is ${JSON.stringify(value)}`);
  return Number(value);
}

/** Waits until the player says it shows frame `n` and nothing is loading. */
export async function waitForFrame(page: Page, n: number, timeoutMs = 30_000): Promise<void> {
  try {
    await page.locator(`[data-frame="${n}"]`).first().waitFor({ timeout: timeoutMs });
    await page.locator('[data-view][aria-busy="false"]').first().waitFor({ timeout: timeoutMs });
  } catch (err) {
    // Say what the page showed instead.
    const frame = await page
      .locator('[data-frame]')
      .first()
      .getAttribute('data-frame', { timeout: 1000 })
      .catch(() => null);
    const busy = await page
      .locator('[data-view]')
      .first()
      .getAttribute('aria-busy', { timeout: 1000 })
      .catch(() => null);
    throw new Error(
      `frame ${n} not shown within ${timeoutMs / 1000} s: data-frame ${frame}, aria-busy ${busy}`,
      {
        cause: err,
      },
    );
  }
}

/** Waits until the player has shown frame `n` or a later one (while playing). */
export async function waitForFrameAtLeast(page: Page, n: number, timeoutMs = 30_000): Promise<void> {
  await page.waitForFunction(
    ({ n }) => {
      const doc = (globalThis as unknown as { document: PageDocument }).document;
      return Number(doc.querySelector('[data-frame]')?.getAttribute('data-frame') ?? -1) >= n;
    },
    { n },
    { timeout: timeoutMs },
  );
}

export interface FrameOnScreen {
  /** What the view says it shows. */
  frame: number;
  /** The code the picture carries (frame-coded videos), null when it carries none. */
  code: number | null;
  /** Size of the picture's own pixels. */
  width: number;
  height: number;
  tag: string;
}

/**
 * data-frame and the picture element's pixels, read in one synchronous step in the page so neither can
 * change in between. The picture (a <video>, <canvas> or <img>) is drawn into a small 2D canvas: its own
 * pixels, without the overlay on top of it.
 */
export async function frameOnScreen(page: Page): Promise<FrameOnScreen> {
  const read = await page.evaluate((selector) => {
    // Inline: the function runs in the page, where nothing of this module exists.
    const doc = (globalThis as unknown as { document: PageDocument }).document;
    const picture = doc.querySelector(selector);
    if (!picture) return { error: `no element ${selector}` };
    const player = picture.closest('[data-frame]');
    const frame = player?.getAttribute('data-frame') ?? null;
    const tag = picture.tagName.toLowerCase();
    const width = picture.videoWidth ?? picture.naturalWidth ?? picture.width ?? 0;
    const height = picture.videoHeight ?? picture.naturalHeight ?? picture.height ?? 0;
    if (!width || !height) return { error: `${tag} has no picture yet`, frame };
    const w = Math.min(width, 128);
    const h = Math.max(4, Math.round((height * w) / width));
    const canvas = doc.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const ctx = canvas.getContext('2d');
    if (!ctx) return { error: 'no 2d context' };
    ctx.drawImage(picture, 0, 0, w, h);
    return { frame, tag, width, height, w, h, pixels: Array.from(ctx.getImageData(0, 0, w, h).data) };
  }, FRAME_SELECTOR);
  if ('error' in read) throw new Error(`frame on screen: ${read.error}`);
  if (read.frame === null || !/^\d+$/.test(read.frame)) throw new Error(`data-frame is ${read.frame}`);
  return {
    frame: Number(read.frame),
    code: readFrameCode(Uint8Array.from(read.pixels), read.w, read.h),
    width: read.width,
    height: read.height,
    tag: read.tag,
  };
}

export const OVERLAY_SELECTOR = 'canvas[aria-label="attention overlay"]';

/**
 * The overlay canvas's own pixels (its drawing buffer, read back through a 2D canvas: unpremultiplied
 * RGBA) at the centre of each cell of a K×K grid, row-major, plus the canvas's buffer size.
 */
export async function overlayAtCells(
  page: Page,
  K: number,
): Promise<{ cells: [number, number, number, number][]; width: number; height: number }> {
  const read = await page.evaluate(
    ({ selector, K }) => {
      const doc = (globalThis as unknown as { document: PageDocument }).document;
      const overlay = doc.querySelector(selector);
      if (!overlay || !overlay.width || !overlay.height) return { error: `no drawn ${selector}` };
      const canvas = doc.createElement('canvas');
      canvas.width = overlay.width;
      canvas.height = overlay.height;
      const ctx = canvas.getContext('2d');
      if (!ctx) return { error: 'no 2d context' };
      ctx.drawImage(overlay, 0, 0, overlay.width, overlay.height);
      const data = ctx.getImageData(0, 0, overlay.width, overlay.height).data;
      const cells: number[][] = [];
      for (let r = 0; r < K; r++) {
        for (let c = 0; c < K; c++) {
          const x = Math.floor(((c + 0.5) * overlay.width) / K);
          const y = Math.floor(((r + 0.5) * overlay.height) / K);
          const at = (y * overlay.width + x) * 4;
          cells.push([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        }
      }
      return { cells, width: overlay.width, height: overlay.height };
    },
    { selector: OVERLAY_SELECTOR, K },
  );
  if ('error' in read) throw new Error(`overlay: ${read.error}`);
  return {
    cells: read.cells.map((c) => [c[0], c[1], c[2], c[3]]),
    width: read.width,
    height: read.height,
  };
}

/** The RGBA pixels of a PNG (a screenshot, an exported filmstrip), decoded by ffmpeg. */
export async function decodePng(file: string): Promise<{ width: number; height: number; rgba: Uint8Array }> {
  const { width, height } = await probeVideo(file);
  for await (const frame of decodeFrames(file, { fps: 'source', width, height })) {
    const rgba = new Uint8Array(width * height * 4);
    for (let i = 0, j = 0; i < frame.rgb.length; i += 3, j += 4) {
      rgba.set(frame.rgb.subarray(i, i + 3), j);
      rgba[j + 3] = 255;
    }
    return { width, height, rgba };
  }
  throw new Error(`${file}: no picture`);
}

/** The code in a screenshot of the picture element: what the screen shows there, overlay included. */
export async function codeInScreenshot(page: Page, file: string): Promise<number | null> {
  await page.locator(FRAME_SELECTOR).screenshot({ path: file });
  const png = await decodePng(file);
  return readFrameCode(png.rgba, png.width, png.height);
}

// ---------------------------------------------------------------------------------------------------
// Artifacts, the shared workspace, Xvfb

/** Folder the screenshots go to: $GLIMPSE_ARTIFACTS, default test/e2e/artifacts/ (gitignored). */
export async function artifactsDir(): Promise<string> {
  const dir = process.env.GLIMPSE_ARTIFACTS ?? path.join(REPO_ROOT, 'test/e2e/artifacts');
  await mkdir(dir, { recursive: true });
  return dir;
}

/** A page screenshot saved as an artifact; returns its path. */
export async function screenshot(page: Page, name: string): Promise<string> {
  const file = path.join(await artifactsDir(), `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}

/**
 * One workspace for every e2e file of a test run (the demo trains once, minutes on 2 cores): a folder under
 * the OS temp dir named by git HEAD when the run's first file asked, or $GLIMPSE_E2E_WORKSPACE. The files of
 * one `node --test` run are children of one process, so a marker named by the parent's pid carries the
 * choice to the later files even when a commit lands meanwhile.
 */
export function sharedWorkspace(): string {
  if (process.env.GLIMPSE_E2E_WORKSPACE) return process.env.GLIMPSE_E2E_WORKSPACE;
  const marker = path.join(os.tmpdir(), `glimpse-e2e-run-${process.ppid}`);
  if (existsSync(marker)) return readFileSync(marker, 'utf8').trim();
  let head = 'nogit';
  try {
    head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: REPO_ROOT,
      encoding: 'utf8',
    }).trim();
  } catch {
    // not a git checkout: one workspace for all runs
  }
  const dir = path.join(os.tmpdir(), `glimpse-e2e-${head}`);
  writeFileSync(marker, dir);
  return dir;
}

/** The demo ready to open: made as a job on the first run (waited for), reused after. */
export async function ensureDemoReady(
  api: ApiClient,
  timeoutMs = 900_000,
): Promise<Extract<Result<'ensureDemo'>, { status: 'ready' }>> {
  const first = await api.call('ensureDemo');
  if (first.status === 'ready') return first;
  const job = await api.waitForJob(first.job.id, timeoutMs);
  if (job.state !== 'done')
    throw new Error(`demo job ${job.state}: ${job.error?.message ?? 'no error recorded'}`);
  const again = await api.call('ensureDemo');
  if (again.status !== 'ready') throw new Error('demo job finished but ensureDemo still answers with a job');
  return again;
}

export interface Xvfb {
  display: string;
  close(): Promise<void>;
}

/** Starts Xvfb on a display number it picks itself (-displayfd), 1600×1000×24. */
export async function startXvfb(): Promise<Xvfb> {
  const child = spawn('Xvfb', ['-displayfd', '3', '-screen', '0', '1600x1000x24', '-nolisten', 'tcp'], {
    stdio: ['ignore', 'ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  const display = await new Promise<string>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`Xvfb did not start: ${stderr}`)), 20_000);
    (child.stdio[3] as NodeJS.ReadableStream).on('data', (chunk: Buffer) => {
      text += chunk.toString();
      if (text.includes('\n')) {
        clearTimeout(timer);
        resolve(`:${text.trim()}`);
      }
    });
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot start Xvfb (${err.message})`));
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`Xvfb exited: ${stderr.trim()}`));
    });
  });
  return {
    display,
    close: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        await exited;
      }
    },
  };
}

/** A PNG of the whole X screen (the real window, title bar and all), grabbed by ffmpeg's x11grab. */
export async function grabScreen(display: string, file: string): Promise<void> {
  const { ffmpeg } = await locateFfmpeg();
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'x11grab', '-video_size', '1600x1000'];
  args.push('-i', display, '-frames:v', '1', '-y', file);
  const result = await runTool(ffmpeg, args, { timeoutMs: 30_000 });
  if (result.code !== 0) throw new Error(`x11grab of ${display} failed: ${result.stderr.trim()}`);
}
