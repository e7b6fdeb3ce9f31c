// The Evaluate view's confusion matrix at HMDB-51's size (51×51, every count written) drawn by the
// renderer's own code in headless chromium: the median draw within one frame (16 ms), as the bench reports.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { HAVE_CHROMIUM, launchChromium } from '../support/browser.ts';
import { benchConfusionRender } from '../../main/bench/confusion-render.ts';

test(
  'a 51×51 confusion matrix draws in under a frame',
  { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' },
  async () => {
    const browser = await launchChromium();
    try {
      const figure = await benchConfusionRender(browser);
      assert.equal(figure.classes, 51);
      assert.ok(figure.draws >= 30);
      assert.ok(figure.median_ms > 0 && figure.median_ms < 16, `median ${figure.median_ms} ms`);
    } finally {
      await browser.close();
    }
  },
);
