/**
 * UI figures for `glimpse bench` (issue 6): overlay playback frames/s at 640×480 in headless chromium,
 * the time from a deep link to the first frame with its attention (a cached video, and a new 10 s video
 * extracted with the built-in backbone), and input latency while a training job runs. Browser mode runs
 * in this process (engine + server, as `glimpse serve` runs them) on a workspace kept between runs
 * (the demo model trains once); every time is measured inside the page, on the page's own clock.
 */
import { randomInt } from 'node:crypto';
import { mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { DemoOutcome, JobInfo } from '../engine/api.ts';
import { createEngine, type Engine } from '../engine/engine.ts';
import { DEMO_SETTINGS } from '../engine/job-tasks.ts';
import { locateFfmpeg } from '../media/locate.ts';
import { fileArg, lastToolLine, runTool } from '../media/tool-process.ts';
import { ensureRendererBuilt } from '../server/renderer-build.ts';
import { startServer } from '../server/server.ts';
import { launchChromium } from './chromium.ts';
import { benchConfusionRender } from './confusion-render.ts';
import { benchCurveRender } from './curve-render.ts';

export interface UiFigure {
  name:
    | 'ui-overlay-fps'
    | 'ui-deep-link-cached'
    | 'ui-deep-link-new-video'
    | 'ui-input-latency'
    | 'ui-confusion-51'
    | 'ui-curve-10k';
  backend: string;
  shape: { width: number; height: number };
  /** The goal the issue sets, as text ("≥ 60", "< 200 ms"). */
  goal: string;
  [key: string]: string | number | boolean | null | object;
}

export interface UiBenchOptions {
  /** Default: a folder under the OS temp dir, kept so the demo model is trained once. */
  workspace?: string;
  log?: (line: string) => void;
  signal?: AbortSignal;
}

const WIDTH = 640;
const HEIGHT = 480;
const FPS = 30;
const SECONDS = 10;
/** The demo's training run, long enough to outlast the key presses (cancelled after them). */
const TRAIN_SETTINGS = { ...DEMO_SETTINGS, epochs: 500 };

/** A 640×480 H.264 test pattern; `seed` adds noise so its content (and hash) is new or differs. */
async function makeVideo(
  file: string,
  seconds: number,
  seed: number | null,
  signal?: AbortSignal,
): Promise<void> {
  const { ffmpeg } = await locateFfmpeg();
  const source = `testsrc2=size=${WIDTH}x${HEIGHT}:rate=${FPS}:duration=${seconds}`;
  const filters = seed === null ? [] : ['-vf', `noise=alls=12:allf=t:all_seed=${seed}`];
  const args = ['-hide_banner', '-nostdin', '-v', 'error', '-f', 'lavfi', '-i', source, ...filters];
  args.push('-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-preset', 'veryfast', '-y', fileArg(file));
  const result = await runTool(ffmpeg, args, { signal, timeoutMs: 120_000 });
  if (result.code !== 0) throw new Error(`${file}: ${lastToolLine(file, result.stderr.split('\n'))}`);
}

/**
 * Runs in the page before the app (a string: it must not depend on how this module was compiled).
 * Records when Inspect first shows a frame with nothing loading (then one animation frame later, when
 * that frame has been painted), every data-frame change, and every key press with the next animation frame.
 */
const PAGE_PROBE = `(() => {
  const probe = { ready: null, frames: [], keys: [] };
  window.__glimpseBench = probe;
  const ready = '[data-view="inspect"][aria-busy="false"] [data-frame]';
  let seen = false;
  new MutationObserver((records) => {
    const at = performance.now();
    for (const r of records)
      if (r.type === 'attributes' && r.attributeName === 'data-frame')
        probe.frames.push({ at, frame: r.target.getAttribute('data-frame') });
    if (!seen && document.querySelector(ready)) {
      seen = true;
      requestAnimationFrame(() => { probe.ready = performance.now(); });
    }
  }).observe(document, { subtree: true, childList: true, attributes: true });
  window.addEventListener('keydown', (e) => {
    const key = { key: e.key, t0: e.timeStamp, handled: performance.now(), painted: null };
    probe.keys.push(key);
    requestAnimationFrame(() => { key.painted = performance.now(); });
  }, true);
  // In-app navigation to another video's deep link: ms until it shows frame \`frame\`, nothing loading,
  // one animation frame later (painted).
  probe.navigate = (hash, frame) => new Promise((resolve, reject) => {
    const before = document.querySelector('[aria-label="video frame"]')?.currentSrc;
    const t0 = performance.now();
    location.hash = hash;
    const shown = '[data-view="inspect"][aria-busy="false"] [data-frame="' + frame + '"]';
    const check = () => {
      const v = document.querySelector('[aria-label="video frame"]');
      if (v && v.currentSrc !== before && document.querySelector(shown))
        requestAnimationFrame(() => resolve(performance.now() - t0));
      else if (performance.now() - t0 > 30000) {
        const view = document.querySelector('[data-view]');
        const player = document.querySelector('[data-frame]');
        reject(new Error('navigation to frame ' + frame + ' not shown after 30 s: aria-busy ' +
          view?.getAttribute('aria-busy') + ', data-frame ' + player?.getAttribute('data-frame') +
          ', new video ' + (v?.currentSrc !== before)));
      } else requestAnimationFrame(check);
    };
    requestAnimationFrame(check);
  });
  // Presented frames of the playing video at this rate for ms milliseconds (after 500 ms to settle).
  probe.countFrames = (ms, rate) => new Promise((resolve, reject) => {
    const v = document.querySelector('[aria-label="video frame"]');
    v.playbackRate = rate;
    setTimeout(() => reject(new Error('playback presented ' + times.length + ' frames in ' + (ms + 5000) +
      ' ms (paused ' + v.paused + ', ended ' + v.ended + ')')), ms + 5000);
    const times = [];
    const done = () => {
      const q = v.getVideoPlaybackQuality();
      resolve({ times, dropped: q.droppedVideoFrames, total: q.totalVideoFrames });
    };
    const tick = (now) => {
      times.push(now);
      if (now - times[0] < ms) v.requestVideoFrameCallback(tick);
      else done();
    };
    setTimeout(() => v.requestVideoFrameCallback(tick), 500);
  });
})();`;

interface Probe {
  ready: number | null;
  frames: { at: number; frame: string | null }[];
  keys: { key: string; t0: number; handled: number; painted: number | null }[];
}

interface PageWithProbe {
  __glimpseBench?: Probe & {
    countFrames(ms: number, rate: number): Promise<{ times: number[]; dropped: number; total: number }>;
    navigate(hash: string, frame: number): Promise<number>;
  };
}

// Page functions are plain arrows without inner named functions (the page's CSP forbids evaluating
// strings, and tsx would wrap named inner functions in a helper the page lacks); the probe holds the rest.
const readProbe = (page: Page): Promise<Probe> =>
  page.evaluate(() => {
    const p = (globalThis as unknown as PageWithProbe).__glimpseBench;
    if (!p) throw new Error('the bench probe is not installed');
    return { ready: p.ready, frames: p.frames, keys: p.keys };
  });

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

function quantile(xs: number[], q: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
}

const round1 = (x: number) => Math.round(x * 10) / 10;

async function waitForJob(engine: Engine, id: string, timeoutMs: number): Promise<JobInfo> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = (await engine.listJobs()).find((j) => j.id === id);
    if (!job) throw new Error(`job ${id} vanished`);
    if (!['queued', 'running'].includes(job.state)) return job;
    if (Date.now() > deadline)
      throw new Error(`${job.title}: still ${job.state} after ${timeoutMs / 1000} s`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function readyDemo(engine: Engine, log: (line: string) => void) {
  let outcome: DemoOutcome = await engine.ensureDemo();
  if (outcome.status === 'job') {
    log('ui bench: making the demo model first (a few minutes, once per workspace)');
    const job = await waitForJob(engine, outcome.job.id, 30 * 60_000);
    if (job.state !== 'done') throw new Error(`demo job ${job.state}: ${job.error?.message ?? ''}`);
    outcome = await engine.ensureDemo();
  }
  if (outcome.status !== 'ready') throw new Error('the demo is still not ready after its job');
  return outcome;
}

export async function benchUi(options: UiBenchOptions = {}): Promise<UiFigure[]> {
  const log = options.log ?? (() => {});
  const workspace = options.workspace ?? path.join(os.tmpdir(), 'glimpse-bench-ui');
  const videos = path.join(workspace, 'bench-videos');
  await mkdir(videos, { recursive: true });
  const rendererDir = await ensureRendererBuilt({
    onBuild: (why) => log(`ui bench: building the renderer (${why})`),
  });
  const engine = await createEngine({ workspace, transport: 'browser', mediaUrl: (id) => `/media/${id}` });
  const server = await startServer({ engine, rendererDir });
  const browser = await launchChromium();
  const figures: UiFigure[] = [];
  try {
    const { backend } = await engine.status();
    // The Evaluate view's 51×51 confusion matrix, drawn by the renderer's own code (shape: classes²).
    const confusion = await benchConfusionRender(browser);
    figures.push({
      name: 'ui-confusion-51',
      backend,
      shape: { width: confusion.classes, height: confusion.classes },
      ...confusion,
      goal: '< 16 ms',
      met: confusion.median_ms < 16,
    });
    // The Train view's training-loss curve at 10,000 batches, path by the renderer's own code into an SVG
    // (shape: points × 1).
    const curve = await benchCurveRender(browser);
    figures.push({
      name: 'ui-curve-10k',
      backend,
      shape: { width: curve.points, height: 1 },
      ...curve,
      goal: '< 16 ms',
      met: curve.median_ms < 16,
    });
    const demo = await readyDemo(engine, log);
    const shape = { width: WIDTH, height: HEIGHT };
    const link = (video: string, extra = '') =>
      `${server.url}#/inspect?model=${encodeURIComponent(demo.model)}&video=${encodeURIComponent(video)}${extra}`;

    /** A fresh page loading `url`; resolves with the page's own time (ms since navigation) to the first frame. */
    const open = async (url: string, timeoutMs: number) => {
      // Large enough that the picture's box is about the video's own 640×480.
      const page = await browser.newPage({ viewport: { width: 1600, height: 1000 } });
      await page.addInitScript({ content: PAGE_PROBE });
      await page.goto(url);
      try {
        await page.waitForFunction(
          () => (globalThis as unknown as PageWithProbe).__glimpseBench?.ready != null,
          null,
          { timeout: timeoutMs, polling: 100 },
        );
      } catch (err) {
        const view = page.locator('[data-view]').first();
        const state = `aria-busy ${await view.getAttribute('aria-busy').catch(() => '?')}, data-frame ${await page
          .locator('[data-frame]')
          .first()
          .getAttribute('data-frame', { timeout: 1000 })
          .catch(() => 'none')}`;
        const alert = await page
          .getByRole('alert')
          .innerText({ timeout: 1000 })
          .catch(() => '');
        throw new Error(
          `ui bench: ${url} did not show its first frame (${state}${alert ? `; ${alert}` : ''})`,
          {
            cause: err,
          },
        );
      }
      return { page, ms: (await readProbe(page)).ready as number };
    };

    // Two cached videos (20 s: room for playback at 1× and 2×); the first open of each extracts (not timed).
    const cached = [path.join(videos, 'pattern-a.mp4'), path.join(videos, 'pattern-b.mp4')];
    await makeVideo(cached[0], 20, null, options.signal);
    await makeVideo(cached[1], 20, 1, options.signal);
    for (const video of cached) await (await open(link(video), 10 * 60_000)).page.close();

    // Overlay playback: presented frames counted by requestVideoFrameCallback at 1× and 2× (up to 60/s).
    {
      const { page } = await open(link(cached[0], '&opacity=0.6'), 60_000);
      const box = await page.locator('[aria-label="video frame"]').boundingBox();
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      const rates: Record<string, number> = {};
      let dropped = 0;
      for (const rate of [1, 2]) {
        const counted = await page.evaluate((rate) => {
          const probe = (globalThis as unknown as PageWithProbe).__glimpseBench;
          if (!probe) throw new Error('the bench probe is not installed');
          return probe.countFrames(3000, rate);
        }, rate);
        const span = counted.times[counted.times.length - 1] - counted.times[0];
        rates[`${rate}x`] = round1(((counted.times.length - 1) * 1000) / span);
        dropped = counted.dropped;
      }
      figures.push({
        name: 'ui-overlay-fps',
        backend,
        shape,
        frames_per_s: rates['2x'],
        frames_per_s_at_1x: rates['1x'],
        playback_rate: 2,
        source_fps: FPS,
        box: box ? { width: Math.round(box.width), height: Math.round(box.height) } : null,
        dropped_frames: dropped,
        goal: '≥ 60',
        met: rates['2x'] >= 60,
      });
      await page.close();
    }

    // Deep link → first frame with its attention, cached videos: followed inside the running app (the
    // hash changes, as a link in the app or Electron's menu does), and as a full page load.
    {
      const { page } = await open(link(cached[0], '&frame=10'), 60_000);
      const inApp: number[] = [];
      for (let i = 0; i < 6; i++) {
        const frame = 20 + i;
        const hash = new URL(link(cached[(i + 1) % 2], `&frame=${frame}`)).hash;
        inApp.push(
          await page.evaluate(
            ({ hash, frame }) => {
              const probe = (globalThis as unknown as PageWithProbe).__glimpseBench;
              if (!probe) throw new Error('the bench probe is not installed');
              return probe.navigate(hash, frame);
            },
            { hash, frame },
          ),
        );
      }
      await page.close();
      const loads: number[] = [];
      for (let i = 0; i < 5; i++) {
        const { page, ms } = await open(link(cached[0], `&frame=${37 + i}`), 60_000);
        loads.push(ms);
        await page.close();
      }
      const ms = median(inApp);
      figures.push({
        name: 'ui-deep-link-cached',
        backend,
        shape,
        ms: round1(ms),
        runs: inApp.map(round1),
        page_load_ms: round1(median(loads)),
        page_load_runs: loads.map(round1),
        goal: '< 200 ms',
        met: ms < 200,
      });
    }

    // The same for a video never seen: extraction with the built-in backbone, inference, the proxy.
    {
      const fresh = path.join(videos, `new-${Date.now()}.mp4`);
      await makeVideo(fresh, SECONDS, randomInt(1, 2 ** 31), options.signal);
      const { page, ms } = await open(link(fresh), 10 * 60_000);
      await page.close();
      await rm(fresh, { force: true });
      figures.push({
        name: 'ui-deep-link-new-video',
        backend,
        shape,
        ms: Math.round(ms),
        seconds_of_video: SECONDS,
        backbone: 'builtin',
        goal: 'none set (reported)',
        met: true,
      });
    }

    // Input latency while a training job runs: key press → next painted frame, and → data-frame change.
    {
      const out = path.join(workspace, 'bench-train', 'model.h5');
      await mkdir(path.dirname(out), { recursive: true });
      const job = await engine.startJob({
        kind: 'train',
        dataset: demo.dataset,
        out,
        settings: TRAIN_SETTINGS,
      });
      try {
        const { page } = await open(link(cached[0], '&frame=10'), 60_000);
        await page.locator('[aria-label="video frame"]').click();
        // Wait for training to be under way (its first progress event), so the presses meet a busy engine.
        for (let i = 0; i < 120; i++) {
          const j = (await engine.listJobs()).find((x) => x.id === job.id);
          if (j?.state === 'running' && j.progress) break;
          await new Promise((r) => setTimeout(r, 500));
        }
        const toPaint: number[] = [];
        const toFrame: number[] = [];
        for (let i = 0; i < 20; i++) {
          const before = await readProbe(page);
          await page.keyboard.press(i % 2 ? 'ArrowLeft' : 'ArrowRight');
          await page.waitForFunction(
            (n) => ((globalThis as unknown as PageWithProbe).__glimpseBench?.frames.length ?? 0) > n,
            before.frames.length,
            { timeout: 10_000 },
          );
          const after = await readProbe(page);
          const key = after.keys[after.keys.length - 1];
          toFrame.push(after.frames[before.frames.length].at - key.t0);
          if (key.painted !== null) toPaint.push(key.painted - key.t0);
          await page.waitForTimeout(150);
        }
        const training = (await engine.listJobs()).find((x) => x.id === job.id);
        figures.push({
          name: 'ui-input-latency',
          backend,
          shape,
          key_to_paint_ms: { median: round1(median(toPaint)), p95: round1(quantile(toPaint, 0.95)) },
          key_to_frame_ms: { median: round1(median(toFrame)), p95: round1(quantile(toFrame, 0.95)) },
          presses: toFrame.length,
          training_state: training?.state ?? 'unknown',
          goal: '< 100 ms',
          met: quantile(toFrame, 0.95) < 100,
        });
        await page.close();
      } finally {
        await engine.cancelJob(job.id).catch(() => {});
      }
    }
  } finally {
    await browser.close();
    await server.close();
    await engine.close();
  }
  return figures;
}

/** One line of the bench table for a UI figure. */
export function describeUiFigure(f: UiFigure): string {
  const verdict = f.met ? 'meets' : 'misses';
  switch (f.name) {
    case 'ui-overlay-fps':
      return (
        `ui overlay playback ${f.shape.width}×${f.shape.height}: ${f.frames_per_s} frames/s at 2×, ` +
        `${f.frames_per_s_at_1x} at 1× (${verdict} goal ${f.goal})`
      );
    case 'ui-deep-link-cached':
      return (
        `ui deep link → first frame with attention, cached video: ${f.ms} ms median in the app, ` +
        `${f.page_load_ms} ms as a page load (${verdict} goal ${f.goal})`
      );
    case 'ui-deep-link-new-video':
      return `ui deep link → first frame with attention, new ${f.seconds_of_video} s video (built-in backbone): ${f.ms} ms`;
    case 'ui-confusion-51':
      return `ui confusion matrix ${f.classes}×${f.classes} with numbers: ${f.median_ms} ms median draw, ${f.p95_ms} ms p95 (${verdict} goal ${f.goal})`;
    case 'ui-curve-10k':
      return `ui training-loss curve, ${f.points} points into an SVG: ${f.median_ms} ms median draw, ${f.p95_ms} ms p95, next frame ${f.next_frame_median_ms} ms median (${verdict} goal ${f.goal})`;
    case 'ui-input-latency': {
      const frame = f.key_to_frame_ms as { median: number; p95: number };
      const paint = f.key_to_paint_ms as { median: number; p95: number };
      return (
        `ui input latency while training: key → frame ${frame.median} ms median, ${frame.p95} ms p95; ` +
        `key → paint ${paint.median} ms median (${verdict} goal ${f.goal})`
      );
    }
  }
}
