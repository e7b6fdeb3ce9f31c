// The app as a new user meets it, in headless chromium against the real `glimpse serve`: the first start
// makes the demo (a job) and opens one of its videos in Inspect; play, pause, step with the buttons and
// the keyboard; the overlay's pixels are the colormap of the attention the API returns for that step;
// colormap and opacity change the pixels; a filmstrip PNG is exported. Screenshots of each step go to
// the artifacts folder.
import assert from 'node:assert/strict';
import { copyFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { colormapLut, type ColormapName } from '../../common/colormaps.ts';
import type { InspectResult, JobInfo } from '../../main/engine/api.ts';
import {
  ApiClient,
  artifactsDir,
  dataFrame,
  decodePng,
  ensureDemoReady,
  FRAME_SELECTOR,
  HAVE_CHROMIUM,
  launchChromium,
  overlayAtCells,
  screenshot,
  sharedWorkspace,
  startServe,
  type ServeHandle,
  waitForFrame,
  waitForFrameAtLeast,
  waitForView,
} from '../support/browser.ts';
import { deepLinkUrl, demoLink, inspectViaApi, newPage, type ReadyDemo } from '../support/e2e-session.ts';

/** The demo trains for minutes on a busy 2-core machine the first time. */
const FIRST_START_MS = 20 * 60_000;

/**
 * The overlay colour Inspect must show for cell l of a step: the colormap's entry round(255 · α_l / max α)
 * (renderer/src/lib/attention.ts displayMap: the step's most attended cell is the top of the colormap).
 */
function expectedCells(alpha: Float32Array, colormap: ColormapName): number[][] {
  const lut = colormapLut(colormap);
  let max = 0;
  for (const a of alpha) max = Math.max(max, a);
  return Array.from(alpha, (a) => {
    const i = Math.max(0, Math.min(255, Math.round((255 * a) / max)));
    return [lut[i * 3], lut[i * 3 + 1], lut[i * 3 + 2]];
  });
}

/** α_t of the clip showing `frame` (the first clip covering it, as Inspect's default clip). */
function alphaAt(result: InspectResult, frame: number): Float32Array {
  const clip = result.clips.find((c) => frame >= c.start && frame < c.start + c.steps);
  if (!clip) throw new Error(`frame ${frame} is outside every clip`);
  const L = result.locations;
  return clip.alpha.subarray((frame - clip.start) * L, (frame - clip.start + 1) * L);
}

/** Share of cells whose colours agree within `tolerance` levels on every channel. */
function shareWithin(a: number[][], b: number[][], tolerance: number): number {
  let ok = 0;
  for (let i = 0; i < a.length; i++)
    if ([0, 1, 2].every((c) => Math.abs(a[i][c] - b[i][c]) <= tolerance)) ok++;
  return ok / a.length;
}

function maxChannelDifference(a: number[][], b: number[][]): number {
  let worst = 0;
  for (let i = 0; i < a.length; i++)
    for (let c = 0; c < 3; c++) worst = Math.max(worst, Math.abs(a[i][c] - b[i][c]));
  return worst;
}

/** RGB at K×K cell centres of a screenshot of the picture (the video with the overlay composited). */
async function composedCells(page: Page, K: number, name: string): Promise<number[][]> {
  const file = path.join(path.dirname(await screenshot(page, name)), `${name}-picture.png`);
  await page.locator(FRAME_SELECTOR).screenshot({ path: file });
  const png = await decodePng(file);
  const cells: number[][] = [];
  for (let r = 0; r < K; r++)
    for (let c = 0; c < K; c++) {
      const x = Math.floor(((c + 0.5) * png.width) / K);
      const y = Math.floor(((r + 0.5) * png.height) / K);
      const at = (y * png.width + x) * 4;
      cells.push([png.rgba[at], png.rgba[at + 1], png.rgba[at + 2]]);
    }
  return cells;
}

async function hashParam(page: Page, key: string): Promise<string | null> {
  const hash = new URL(page.url()).hash;
  return new URLSearchParams(hash.slice(hash.indexOf('?') + 1)).get(key);
}

describe(
  'Inspect of the demo in headless chromium',
  { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' },
  () => {
    let serve: ServeHandle;
    let api: ApiClient;
    let browser: Browser;
    let demo: ReadyDemo;
    let page: Page;
    let errors: string[];
    let result: InspectResult;

    before(async () => {
      serve = await startServe({ workspace: sharedWorkspace() });
      api = await ApiClient.connect(serve);
      browser = await launchChromium();
      ({ page, errors } = await newPage(browser));
    });
    after(async () => {
      await browser?.close();
      api?.close();
      await serve?.close();
    });

    test('the first start opens a demo video in Inspect (the demo job runs first on a fresh workspace)', async () => {
      await page.goto(serve.url);
      await page.locator('[data-view="inspect"]').waitFor({ timeout: 60_000 });
      await screenshot(page, 'demo-1-first-start');
      await page
        .locator('[data-view="inspect"][aria-busy="false"] [data-frame]')
        .waitFor({ timeout: FIRST_START_MS });
      await waitForView(page, 'inspect');
      demo = await ensureDemoReady(api);
      assert.equal(await hashParam(page, 'model'), demo.model);
      assert.equal(await hashParam(page, 'dataset'), demo.dataset);
      // The token is dropped from the address bar once the page has its cookie.
      assert.equal(new URL(page.url()).searchParams.get('token'), null);
      await screenshot(page, 'demo-2-inspect');
      result = await inspectViaApi(api, {
        model: demo.model,
        source: { kind: 'dataset', dir: demo.dataset, split: demo.split, index: demo.index },
      });
      assert.ok(result.video, 'the demo video is on disk');
    });

    test('play, then pause: frames advance, then stop', async () => {
      const first = await dataFrame(page);
      // The demo video is 40 frames: at a quarter speed it cannot end before the test pauses it on a loaded machine.
      const speed = page.getByRole('combobox', { name: 'Speed', exact: true });
      await speed.selectOption({ label: '0.25×' });
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
      await waitForFrameAtLeast(page, first + 10);
      await screenshot(page, 'demo-3-playing');
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
      await page.locator('[data-view="inspect"][aria-busy="false"]').waitFor();
      const paused = await dataFrame(page);
      await page.waitForTimeout(500);
      assert.equal(await dataFrame(page), paused, 'no frame change while paused');
      assert.ok(paused > first);
      await speed.selectOption({ label: '1×' });
    });

    test('step frames with the buttons and the keyboard', async () => {
      // Early enough that Space's playback below still has most of the 40-frame demo video to run.
      const start = Math.max(0, Math.min(await dataFrame(page), result.frames - 30));
      await page.goto(deepLinkUrl(serve, demoLink(demo, { frame: start })));
      await waitForView(page, 'inspect');
      await waitForFrame(page, start);
      const next = page.getByRole('button', { name: 'Next frame', exact: true });
      const previous = page.getByRole('button', { name: 'Previous frame', exact: true });
      await next.click();
      await waitForFrame(page, start + 1);
      await next.click();
      await waitForFrame(page, start + 2);
      await previous.click();
      await waitForFrame(page, start + 1);
      // Keys go to the page, not to a focused control that would use them.
      await page.locator(FRAME_SELECTOR).click();
      await page.keyboard.press('ArrowRight');
      await waitForFrame(page, start + 2);
      await page.keyboard.press('ArrowRight');
      await page.keyboard.press('ArrowRight');
      await waitForFrame(page, start + 4);
      await page.keyboard.press('ArrowLeft');
      await waitForFrame(page, start + 3);
      assert.equal(await hashParam(page, 'frame'), String(start + 3), 'the frame is in the URL');
      await screenshot(page, 'demo-4-stepped');
      // Space plays and pauses.
      await page.keyboard.press('Space');
      await page.getByRole('button', { name: 'Pause', exact: true }).waitFor();
      await page.keyboard.press('Space');
      await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
    });

    test('the overlay shows the colormap of the attention the API returns for that step', async () => {
      const K = result.grid;
      const frames = [0, 1, Math.floor(result.frames / 3), Math.floor(result.frames / 2), result.frames - 1];
      const link = demoLink(demo, { colormap: 'viridis', opacity: 1, smooth: false });
      await page.goto(deepLinkUrl(serve, { ...link, frame: frames[0] }));
      await waitForView(page, 'inspect');
      for (const frame of frames) {
        await page.evaluate(
          (hash) => {
            (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
          },
          new URL(deepLinkUrl(serve, { ...link, frame })).hash,
        );
        await waitForFrame(page, frame);
        const drawn = await overlayAtCells(page, K);
        const expected = expectedCells(alphaAt(result, frame), 'viridis');
        const worst = maxChannelDifference(drawn.cells, expected);
        assert.ok(worst <= 3, `frame ${frame}: overlay differs from viridis(α/max α) by ${worst} levels`);
        assert.ok(
          drawn.cells.every((c) => c[3] === 255),
          'opacity 1 draws opaque cells',
        );
      }
      await screenshot(page, 'demo-5-overlay-opacity-1');
    });

    test('colormap and opacity controls change the pixels (and the URL)', async () => {
      const K = result.grid;
      const frame = Math.floor(result.frames / 2);
      await page.goto(
        deepLinkUrl(serve, demoLink(demo, { frame, colormap: 'viridis', opacity: 1, smooth: false })),
      );
      await waitForView(page, 'inspect');
      await waitForFrame(page, frame);
      const alpha = alphaAt(result, frame);
      const viridisScreen = await composedCells(page, K, 'demo-6-viridis');

      await page.getByLabel('Colormap', { exact: true }).selectOption('jet');
      await page.waitForURL(/colormap=jet/);
      const jet = await overlayAtCells(page, K);
      assert.ok(maxChannelDifference(jet.cells, expectedCells(alpha, 'jet')) <= 3, 'jet LUT drawn');
      const jetScreen = await composedCells(page, K, 'demo-7-jet');
      assert.ok(maxChannelDifference(jetScreen, viridisScreen) > 40, 'the screen changed with the colormap');
      // At opacity 1 the screen shows the overlay's own colours over the picture (the glimpse trail, drawn
      // on top, may cover a few cell centres).
      assert.ok(shareWithin(jetScreen, expectedCells(alpha, 'jet'), 6) >= 0.9, 'screen = jet at opacity 1');

      const opacity = page.getByLabel('Opacity', { exact: true });
      await opacity.fill('0');
      await page.waitForURL(/opacity=0(&|$)/);
      const bare = await composedCells(page, K, 'demo-8-opacity-0');
      await opacity.fill('0.4');
      await page.waitForURL(/opacity=0\.4/);
      const blended = await composedCells(page, K, 'demo-9-opacity-0.4');
      // Source-over blending of the premultiplied overlay: 0.4 · colour + 0.6 · picture, per cell centre.
      const jetColours = expectedCells(alpha, 'jet');
      const mixed = bare.map((v, i) => v.map((p, c) => 0.4 * jetColours[i][c] + 0.6 * p));
      const share = shareWithin(blended, mixed, 8);
      assert.ok(
        share >= 0.9,
        `opacity 0.4 composites as 0.4·overlay + 0.6·picture in ${(share * 100).toFixed(0)}% of cells`,
      );
      assert.ok(maxChannelDifference(blended, bare) > 20 && maxChannelDifference(blended, jetScreen) > 20);
    });

    test('Export filmstrip writes a PNG that decodes', async () => {
      const before = new Set((await api.call('listJobs')).map((j) => j.id));
      await page.getByRole('button', { name: 'Export filmstrip', exact: true }).click();
      let job: JobInfo | undefined;
      for (let i = 0; i < 300 && !job; i++) {
        job = (await api.call('listJobs')).find((j) => j.kind === 'export-filmstrip' && !before.has(j.id));
        if (!job) await page.waitForTimeout(200);
      }
      assert.ok(job, 'the button started an export-filmstrip job');
      const done = await api.waitForJob(job.id, 300_000);
      assert.equal(done.state, 'done', done.error?.message);
      const out = done.result?.path;
      assert.equal(typeof out, 'string', `job result names the file: ${JSON.stringify(done.result)}`);
      const file = out as string;
      assert.ok((await stat(file)).size > 1000);
      const png = await decodePng(file);
      // Eight frames side by side over their overlays (at least the frame's height), plus a colour bar.
      assert.ok(png.width >= 4 * 64 && png.height >= 64, `filmstrip is ${png.width}×${png.height}`);
      assert.ok(png.width > png.height, 'a strip, wider than tall');
      await page.getByText('Filmstrip ready').waitFor({ timeout: 30_000 });
      await screenshot(page, 'demo-10-exported');
      await copyFile(file, path.join(await artifactsDir(), 'demo-filmstrip.png'));
      assert.deepEqual(errors, [], 'no errors in the page console');
    });
  },
);
