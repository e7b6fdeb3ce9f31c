// The Compare view in headless chromium against the real `glimpse serve`: the demo model (A) against a
// second real model (B: one epoch of the demo's data with maxlen 20, so its clips start elsewhere) on one
// demo video. The difference map's pixels are the diverging colormap of α_A − α_B the API's alphas give,
// the JS timeline's values are the JS divergence of the API's alphas written out here from its definition,
// the disagreement count is that of the API's per-step argmax, every player shows the same frame after a
// deep link, a step and playing, and Inspect's Compare… action opens the view.
import assert from 'node:assert/strict';
import { mkdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { colormapLut } from '../../common/colormaps.ts';
import type { InspectResult, InspectSource } from '../../main/engine/api.ts';
import { HAVE_CHROMIUM, screenshot, waitForFrame, waitForView } from '../support/browser.ts';
import { runGlimpse } from '../support/cli.ts';
import {
  deepLinkUrl,
  demoLink,
  inspectViaApi,
  newPage,
  openE2eSession,
  type E2eSession,
} from '../support/e2e-session.ts';

// What the functions run in the page use of it (the tests' TypeScript has no DOM library).
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): {
    drawImage(c: PageCanvas, x: number, y: number): void;
    getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> };
  } | null;
}
interface PageElement {
  getAttribute(name: string): string | null;
}
interface PageDoc {
  querySelector(selector: string): (PageElement & PageCanvas) | null;
  querySelectorAll(selector: string): Iterable<PageElement>;
  createElement(tag: 'canvas'): PageCanvas;
}

/** The demo trains for minutes on a busy 2-core machine the first time. */
const FIRST_START_MS = 20 * 60_000;

/** B: a real model, trained here once per shared workspace (tens of seconds). */
async function secondModel(session: E2eSession): Promise<string> {
  const dir = path.join(session.workspace, 'compare-model-b');
  const out = path.join(dir, 'b.h5');
  if (await stat(out).catch(() => null)) return out;
  // Trained in a folder of its own (with its log and resume file) moved into place when complete.
  const tmp = `${dir}-${process.pid}`;
  await mkdir(tmp, { recursive: true });
  const r = runGlimpse(
    [
      'train',
      '--dataset',
      session.demo.dataset,
      '--out',
      path.join(tmp, 'b.h5'),
      '--epochs',
      '1',
      '--maxlen',
      '20',
    ].concat(['--dim', '32', '--dim-out', '32']),
    { GLIMPSE_BACKEND: 'onnx' },
  );
  assert.equal(r.code, 0, `train of model B failed: ${r.stderr}`);
  await rename(tmp, dir);
  return out;
}

/** α of the first clip covering each frame (the Compare view's rule), null outside every clip. */
function alphaPerFrame(r: InspectResult, frames: number): (Float32Array | null)[] {
  const L = r.locations;
  return Array.from({ length: frames }, (_, f) => {
    const c = r.clips.find((k) => f >= k.start && f < k.start + k.steps);
    return c ? c.alpha.slice((f - c.start) * L, (f - c.start + 1) * L) : null;
  });
}

function decisionPerFrame(r: InspectResult, frames: number): number[] {
  const C = r.classNames.length;
  return Array.from({ length: frames }, (_, f) => {
    const c = r.clips.find((k) => f >= k.start && f < k.start + k.steps);
    if (!c) return -1;
    const p = Array.from(c.probs.subarray((f - c.start) * C, (f - c.start + 1) * C));
    return p.indexOf(Math.max(...p));
  });
}

/** ½ KL(P‖M) + ½ KL(Q‖M) in nats, divided by ln 2 (bits), each map renormalised. */
function jsBits(p: Float32Array, q: Float32Array): number {
  const sp = p.reduce((s, v) => s + v, 0);
  const sq = q.reduce((s, v) => s + v, 0);
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = p[i] / sp;
    const b = q[i] / sq;
    const m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * Math.log(a / m);
    if (b > 0) js += 0.5 * b * Math.log(b / m);
  }
  return js / Math.LN2;
}

/** The difference pane's overlay canvas (its own drawing buffer, unpremultiplied) at K×K cell centres. */
async function differenceCells(page: Page, K: number): Promise<number[][]> {
  return page.evaluate(
    ({ K }) => {
      const doc = (globalThis as unknown as { document: PageDoc }).document;
      const overlay = doc.querySelector('[data-pane="difference"] canvas[aria-label="attention overlay"]');
      if (!overlay) throw new Error('no difference overlay');
      const canvas = doc.createElement('canvas');
      canvas.width = overlay.width;
      canvas.height = overlay.height;
      const ctx = canvas.getContext('2d');
      if (!ctx) throw new Error('no 2d context');
      ctx.drawImage(overlay, 0, 0);
      const data = ctx.getImageData(0, 0, overlay.width, overlay.height).data;
      const cells: number[][] = [];
      for (let r = 0; r < K; r++)
        for (let c = 0; c < K; c++) {
          const x = Math.floor(((c + 0.5) * overlay.width) / K);
          const y = Math.floor(((r + 0.5) * overlay.height) / K);
          const at = (y * overlay.width + x) * 4;
          cells.push([data[at], data[at + 1], data[at + 2], data[at + 3]]);
        }
      return cells;
    },
    { K },
  );
}

async function frames(page: Page): Promise<string[]> {
  return page
    .locator('[data-view="compare"] [data-frame]')
    .evaluateAll((els) => els.map((e) => e.getAttribute('data-frame') ?? ''));
}

/** All players (A, B[, C], the difference) say they show frame n, and nothing is loading. */
async function allAt(page: Page, n: number, count = 3): Promise<void> {
  try {
    await page.waitForFunction(
      ({ n, count }) => {
        const doc = (globalThis as unknown as { document: PageDoc }).document;
        const players = [...doc.querySelectorAll('[data-view="compare"] [data-frame]')];
        return (
          players.length === count &&
          players.every((p) => p.getAttribute('data-frame') === String(n)) &&
          doc.querySelector('[data-view="compare"]')?.getAttribute('aria-busy') === 'false'
        );
      },
      { n, count },
      { timeout: 30_000 },
    );
  } catch (err) {
    // Say what the page showed instead.
    const shown = await frames(page).catch(() => []);
    const busy = await page
      .locator('[data-view="compare"]')
      .getAttribute('aria-busy', { timeout: 1000 })
      .catch(() => null);
    const hash = await page.evaluate(
      () => (globalThis as unknown as { location: { hash: string } }).location.hash,
    );
    throw new Error(
      `players not all on frame ${n}: they show [${shown.join(', ')}], aria-busy ${busy}, address ${hash} ` +
        `(${(err as Error).message})`,
    );
  }
}

describe('Compare view', { skip: !HAVE_CHROMIUM && 'no chromium', timeout: FIRST_START_MS + 600_000 }, () => {
  let session: E2eSession;
  let modelB: string;
  let source: InspectSource;
  let a: InspectResult;
  let b: InspectResult;

  before(async () => {
    session = await openE2eSession();
    modelB = await secondModel(session);
    const { demo, api } = session;
    source = { kind: 'dataset', dir: demo.dataset, split: demo.split, index: demo.index };
    a = await inspectViaApi(api, { model: demo.model, source });
    b = await inspectViaApi(api, { model: modelB, source });
  });
  after(async () => {
    await session?.close();
  });

  const compareUrl = (frame: number, models = [session.demo.model, modelB], extra = '') => {
    const q = (v: string) => encodeURIComponent(v);
    const s = source as Extract<InspectSource, { kind: 'dataset' }>;
    return (
      `${session.serve.origin}/?token=${q(session.serve.token)}#/compare?models=${models.map(q).join(',')}` +
      `&dataset=${q(s.dir)}&split=${q(s.split)}&index=${s.index}&frame=${frame}${extra}`
    );
  };

  test('difference map, JS timeline and disagreement band equal what the API alphas give; one frame clock', async () => {
    assert.equal(a.frames, b.frames);
    assert.notEqual(a.maxlen, b.maxlen, 'B has another maxlen, so clips are aligned by frame');
    const N = a.frames;
    const alphaA = alphaPerFrame(a, N);
    const alphaB = alphaPerFrame(b, N);
    // A frame where the maps differ clearly (B is a one-epoch model).
    const F = Math.min(N - 2, 21);
    assert.ok(alphaA[F] && alphaB[F], `frame ${F} has a step of both models`);

    const { page, errors } = await newPage(session.browser);
    await page.goto(compareUrl(F));
    await waitForView(page, 'compare', 300_000);
    await allAt(page, F);
    assert.deepEqual(await frames(page), [String(F), String(F), String(F)]);

    // The difference map: rdbu at ½ + Δ/(2 max|Δ|) per cell, at the overlay's opacity (0.6 by default).
    const K = a.grid;
    const diff = alphaA[F]!.map((v, l) => v - alphaB[F]![l]);
    const m = Math.max(...Array.from(diff, Math.abs));
    assert.ok(m > 1e-4, `the two models' attention differs at frame ${F} (max |Δ| ${m})`);
    const lut = colormapLut('rdbu');
    const cells = await differenceCells(page, K);
    let worst = 0;
    for (let l = 0; l < K * K; l++) {
      const level = Math.max(0, Math.min(255, Math.round(255 * (0.5 + diff[l] / (2 * m)))));
      for (let ch = 0; ch < 3; ch++) worst = Math.max(worst, Math.abs(cells[l][ch] - lut[level * 3 + ch]));
      assert.ok(Math.abs(cells[l][3] - 153) <= 1, `cell ${l} alpha ${cells[l][3]} is opacity 0.6`);
    }
    assert.ok(worst <= 3, `difference map cells within 3 levels of rdbu (worst ${worst})`);
    // The colour bar's scale is symmetric: ±max |Δ|.
    const bar = await page.locator('[data-pane="difference"] [aria-label="Colour scale"]').innerText();
    assert.ok(bar.includes(m.toFixed(3)) && bar.includes((-m).toFixed(3)), bar);

    // The JS timeline: one value per frame, NaN (empty) where a model has no step.
    const shownJs = ((await page.locator('[data-js]').getAttribute('data-js')) ?? '').split(',');
    assert.equal(shownJs.length, N);
    for (let f = 0; f < N; f++) {
      const p = alphaA[f];
      const q = alphaB[f];
      if (!p || !q) {
        assert.equal(shownJs[f], '', `frame ${f}: a gap`);
        continue;
      }
      assert.ok(
        Math.abs(Number(shownJs[f]) - jsBits(p, q)) < 1e-5,
        `frame ${f}: JS ${shownJs[f]} vs ${jsBits(p, q)}`,
      );
    }
    const jsPath = await page.locator('[data-track="js"] path').getAttribute('d');
    assert.ok(jsPath && jsPath.split('L').length > N / 2, 'the JS series is drawn');

    // The disagreement band: frames where both have a step and argmax p_t differ.
    const da = decisionPerFrame(a, N);
    const db = decisionPerFrame(b, N);
    const disagree = da.filter((d, f) => d >= 0 && db[f] >= 0 && d !== db[f]).length;
    const summary = await page.locator('.summary').innerText();
    assert.ok(summary.includes(`decisions disagree on ${disagree} of ${N} frames`), summary);
    const bandWidth = await page
      .locator('[data-track="disagree"] rect')
      .evaluateAll((rs) => rs.reduce((s, r) => s + Number(r.getAttribute('width')), 0));
    assert.equal(disagree > 0, bandWidth > 0, `band drawn iff ${disagree} frames disagree`);
    await screenshot(page, 'compare-two-models');

    // One clock: a step moves every player; playing then pausing leaves them on one frame.
    await page.getByRole('button', { name: 'Next frame' }).click();
    await allAt(page, F + 1);
    await page.keyboard.press('ArrowLeft');
    await allAt(page, F);
    // The demo's videos are 40 frames long: play from the start at a quarter speed, so that a loaded machine
    // cannot reach the end before the test pauses.
    await page.getByLabel('Scrub').fill('0');
    await allAt(page, 0);
    await page.getByRole('combobox', { name: 'Speed', exact: true }).selectOption({ label: '0.25×' });
    await page.getByRole('button', { name: 'Play' }).click();
    await page.waitForFunction(
      (f) =>
        Number(
          (globalThis as unknown as { document: PageDoc }).document
            .querySelector('[data-model="A"] [data-frame]')
            ?.getAttribute('data-frame') ?? -1,
        ) >= f,
      5,
      { timeout: 30_000 },
    );
    await page.getByRole('button', { name: 'Pause' }).click();
    await page.locator('[data-view="compare"][aria-busy="false"]').waitFor({ timeout: 30_000 });
    const after = await frames(page);
    assert.equal(new Set(after).size, 1, `players after pause: ${after.join(', ')}`);
    assert.ok(Number(after[0]) >= 5, `paused at ${after[0]}`);
    // Paused means paused: no player moves on afterwards.
    await page.waitForTimeout(500);
    await page.locator('[data-view="compare"][aria-busy="false"]').waitFor({ timeout: 30_000 });
    assert.deepEqual(await frames(page), after, 'no frame change while paused');
    await screenshot(page, 'compare-after-play');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('three models: the pair in the address is the one differenced, every player on one frame', async () => {
    // C: the demo run's last epoch (model.resume.h5), a third real checkpoint.
    const modelC = path.join(path.dirname(session.demo.model), 'model.resume.h5');
    const c = await inspectViaApi(session.api, { model: modelC, source });
    const N = b.frames;
    const alphaB = alphaPerFrame(b, N);
    const alphaC = alphaPerFrame(c, N);
    const { page, errors } = await newPage(session.browser);
    await page.goto(compareUrl(7, [session.demo.model, modelB, modelC], '&pair=1,2'));
    await waitForView(page, 'compare', 300_000);
    await allAt(page, 7, 4);
    assert.equal(await page.getByLabel('Pair', { exact: true }).inputValue(), '1,2');
    assert.ok((await page.locator('[data-pane="difference"]').innerText()).includes('αB − αC'));
    const shownJs = ((await page.locator('[data-js]').getAttribute('data-js')) ?? '').split(',');
    for (let f = 0; f < N; f++) {
      const p = alphaB[f];
      const q = alphaC[f];
      if (p && q) assert.ok(Math.abs(Number(shownJs[f]) - jsBits(p, q)) < 1e-5, `frame ${f}: JS(B, C)`);
      else assert.equal(shownJs[f], '');
    }
    await page.getByRole('button', { name: 'Next frame' }).click();
    await allAt(page, 8, 4);
    await screenshot(page, 'compare-three-models');
    assert.deepEqual(errors, []);
    await page.close();
  });

  test('Inspect: Compare… with a second model opens the Compare view on the same video and frame', async () => {
    const { page, errors } = await newPage(session.browser);
    await page.goto(deepLinkUrl(session.serve, demoLink(session.demo, { frame: 5 })));
    await waitForView(page, 'inspect', 300_000);
    await waitForFrame(page, 5);
    await page.getByRole('button', { name: 'Compare…' }).click();
    await page.getByLabel('Second model').fill(modelB);
    await page.getByRole('button', { name: 'Open in Compare' }).click();
    await waitForView(page, 'compare', 120_000);
    await allAt(page, 5);
    const hash = await page.evaluate(
      () => (globalThis as unknown as { location: { hash: string } }).location.hash,
    );
    assert.ok(hash.startsWith('#/compare?models='), hash);
    assert.ok(decodeURIComponent(hash).includes(modelB), hash);
    assert.deepEqual(errors, []);
    await page.close();
  });
});
