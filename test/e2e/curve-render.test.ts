// The Train view's training-loss curve at 10,000 batches drawn by the renderer's own path code into an SVG
// in headless chromium: the median draw (path built, laid out) within one frame (16 ms), as the bench reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HAVE_CHROMIUM, launchChromium } from '../support/browser.ts';
import { benchCurveRender } from '../../main/bench/curve-render.ts';

test(
  'a 10,000-point loss curve draws in under a frame',
  { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' },
  async () => {
    const browser = await launchChromium();
    try {
      const figure = await benchCurveRender(browser);
      assert.equal(figure.points, 10_000);
      assert.ok(figure.draws >= 30);
      assert.ok(figure.median_ms > 0 && figure.median_ms < 16, `median ${figure.median_ms} ms`);
      assert.ok(figure.next_frame_median_ms >= figure.median_ms);
    } finally {
      await browser.close();
    }
  },
);
