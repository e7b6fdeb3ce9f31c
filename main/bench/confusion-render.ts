/**
 * The time to draw a 51×51 confusion matrix (HMDB-51's size) with its numbers, as the Evaluate view draws it:
 * the renderer's own drawing code (renderer/src/lib/confusion.ts, bundled by esbuild) run in a blank page of
 * headless chromium on a canvas at the view's size, timed on the page's clock.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import type { Browser } from 'playwright-core';

const SOURCE = fileURLToPath(new URL('../../renderer/src/lib/confusion.ts', import.meta.url));

export interface ConfusionRenderFigure {
  classes: number;
  draws: number;
  median_ms: number;
  p95_ms: number;
}

/** The little of the page's DOM used here (this module compiles without the DOM library). */
interface Canvas2d {
  getImageData(x: number, y: number, w: number, h: number): unknown;
}
interface PageCanvas {
  width: number;
  height: number;
  getContext(kind: '2d'): Canvas2d | null;
}
type Layout = { cell: number; margin: number; size: number };
/** What the page has: the bundle's exports (renderer/src/lib/confusion.ts) and the document. */
interface PageGlobals {
  GlimpseConfusion: {
    confusionLayout(n: number): Layout;
    drawConfusion(
      ctx: Canvas2d,
      matrix: number[][],
      names: string[],
      layout: Layout,
      selected: { row: number; col: number } | null,
    ): void;
  };
  document: { getElementById(id: string): PageCanvas | null };
}

export async function benchConfusionRender(
  browser: Browser,
  classes = 51,
  draws = 40,
): Promise<ConfusionRenderFigure> {
  const bundle = await build({
    entryPoints: [SOURCE],
    bundle: true,
    write: false,
    format: 'iife',
    globalName: 'GlimpseConfusion',
    platform: 'browser',
    logLevel: 'silent',
  });
  const page = await browser.newPage({ viewport: { width: 900, height: 900 } });
  try {
    await page.setContent('<canvas id="c"></canvas>');
    await page.addScriptTag({ content: bundle.outputFiles[0].text });
    const times = await page.evaluate(
      ({ n, count }) => {
        const page = globalThis as unknown as PageGlobals;
        const lib = page.GlimpseConfusion;
        // A plausible HMDB-51 result: a strong diagonal, confusions scattered off it (fixed, not random).
        const matrix = Array.from({ length: n }, (_, r) =>
          Array.from({ length: n }, (_, c) =>
            r === c ? 20 + (r % 7) : (r * 31 + c * 17) % 9 === 0 ? 1 + ((r + c) % 4) : 0,
          ),
        );
        const names = Array.from({ length: n }, (_, i) => `class_${i}`);
        const canvas = page.document.getElementById('c');
        if (!canvas) throw new Error('the bench page has no canvas');
        const layout = lib.confusionLayout(n);
        canvas.width = layout.size;
        canvas.height = layout.size;
        const ctx = canvas.getContext('2d');
        if (!ctx) throw new Error('no 2D canvas in the bench page');
        const out: number[] = [];
        for (let i = 0; i < count; i++) {
          const t0 = performance.now();
          lib.drawConfusion(ctx, matrix, names, layout, { row: i % n, col: (i * 7) % n });
          // Reading a pixel waits for the drawing to be done, not only queued.
          ctx.getImageData(0, 0, 1, 1);
          out.push(performance.now() - t0);
        }
        return out;
      },
      { n: classes, count: draws },
    );
    // The first draws warm the font cache and the JIT.
    const sorted = times.slice(5).sort((a, b) => a - b);
    const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
    return {
      classes,
      draws: sorted.length,
      median_ms: Math.round(at(0.5) * 100) / 100,
      p95_ms: Math.round(at(0.95) * 100) / 100,
    };
  } finally {
    await page.close();
  }
}
