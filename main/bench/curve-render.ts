/**
 * The time to draw a 10,000-point training-loss curve, as the Train view draws it: the renderer's own path
 * code (renderer/src/lib/run-curves.ts with d3's scales, bundled by esbuild) run in a blank page of headless
 * chromium, the path put into an SVG at the view's size and its geometry computed (getBBox forces layout),
 * timed on the page's clock; also the time from the start of an animation frame to the next one, which stays
 * one frame interval while the draw fits in a frame.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';

const LIB_DIR = fileURLToPath(new URL('../../renderer/src/lib/', import.meta.url));

export interface CurveRenderFigure {
  points: number;
  draws: number;
  median_ms: number;
  p95_ms: number;
  /** Start of an animation frame (draw inside it) → the next animation frame. */
  next_frame_median_ms: number;
}

/** A batch point as renderer/src/lib/run-curves.ts takes it. */
type Batch = { kind: 'batch'; epoch: number; batch: number; batches: number; loss: number };
type Scale = ((v: number) => number) & {
  domain(d: number[]): Scale;
  range(r: number[]): Scale;
  clamp(c: boolean): Scale;
};
/** The little of the page's DOM used here (this module compiles without the DOM library). */
interface PagePath {
  setAttribute(name: string, value: string): void;
  getBBox(): { width: number; height: number };
}
/** What the page has: the bundle's exports and the document. */
interface PageGlobals {
  GlimpseCurve: {
    batchLossPath(batches: Batch[], x: Scale, y: Scale): string | null;
    scaleLinear(): Scale;
    scaleLog(): Scale;
  };
  document: { getElementById(id: string): PagePath | null };
  requestAnimationFrame(callback: (now: number) => void): number;
}

// The Train view's loss chart: RunCurves.svelte's size and margins.
const WIDTH = 640;
const HEIGHT = 190;
const M = { top: 12, right: 16, bottom: 26, left: 52 };

export async function benchCurveRender(
  browser: Browser,
  points = 10_000,
  draws = 40,
): Promise<CurveRenderFigure> {
  const bundle = await build({
    stdin: {
      contents:
        "export { batchLossPath } from './run-curves.ts'; export { scaleLinear, scaleLog } from 'd3';",
      resolveDir: LIB_DIR,
      loader: 'ts',
    },
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'GlimpseCurve',
    platform: 'browser',
    logLevel: 'silent',
  });
  const page = await browser.newPage({ viewport: { width: 900, height: 400 } });
  try {
    await page.setContent(
      `<svg width="${WIDTH}" height="${HEIGHT}"><path id="p" fill="none" stroke="#7aa7e8" stroke-width="1.2"></path></svg>`,
    );
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
    const times = await page.evaluate(
      async ({ n, count, width, height, m }) => {
        const page = globalThis as unknown as PageGlobals;
        const lib = page.GlimpseCurve;
        // A plausible run: 20 epochs of 500 batches, a summed loss falling by two decades with noise (fixed).
        const perEpoch = 500;
        const batches: Batch[] = Array.from({ length: n }, (_, i) => ({
          kind: 'batch',
          epoch: Math.floor(i / perEpoch),
          batch: i % perEpoch,
          batches: perEpoch,
          loss: 300 * Math.exp(-i / 2000) * (1 + 0.3 * Math.sin(i * 12.9898)) + 2,
        }));
        const epochs = Math.ceil(n / perEpoch);
        const path = page.document.getElementById('p');
        if (!path) throw new Error('the bench page has no path');
        const draw: number[] = [];
        const next: number[] = [];
        for (let i = 0; i < count; i++) {
          // Functions are not named in here: tsx would wrap them in a helper the page lacks.
          await new Promise<number>((resolve) => page.requestAnimationFrame(resolve));
          const t0 = performance.now();
          // As RunCurves.svelte does on every update: new scales, the whole path, into the SVG.
          const x = lib
            .scaleLinear()
            .domain([0, epochs])
            .range([m.left, width - m.right]);
          const y = lib
            .scaleLog()
            .domain([1.5 + (i % 3) * 0.01, 400])
            .range([height - m.bottom, m.top])
            .clamp(true);
          path.setAttribute('d', lib.batchLossPath(batches, x, y) ?? '');
          // Reading the box makes the browser parse the path and lay it out now, not later.
          if (path.getBBox().width <= 0) throw new Error('the drawn curve has no extent');
          draw.push(performance.now() - t0);
          next.push((await new Promise<number>((resolve) => page.requestAnimationFrame(resolve))) - t0);
        }
        return { draw, next };
      },
      { n: points, count: draws, width: WIDTH, height: HEIGHT, m: M },
    );
    // The first draws warm the JIT.
    const sorted = (xs: number[]) => xs.slice(5).sort((a, b) => a - b);
    const at = (s: number[], q: number) => s[Math.min(s.length - 1, Math.floor(q * s.length))];
    const round = (v: number) => Math.round(v * 100) / 100;
    const draw = sorted(times.draw);
    return {
      points,
      draws: draw.length,
      median_ms: round(at(draw, 0.5)),
      p95_ms: round(at(draw, 0.95)),
      next_frame_median_ms: round(at(sorted(times.next), 0.5)),
    };
  } finally {
    await page.close();
  }
}
