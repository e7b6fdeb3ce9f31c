// The Inspect deep link in a real, headed chromium window on an Xvfb display; the whole X screen is
// grabbed and kept as an artifact (test/e2e/artifacts/xvfb-inspect-screen.png).
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import {
  artifactsDir,
  decodePng,
  frameOnScreen,
  grabScreen,
  HAVE_CHROMIUM,
  screenshot,
  startXvfb,
  waitForFrame,
  waitForView,
  type Xvfb,
} from '../support/browser.ts';
import { deepLinkUrl, demoLink, openE2eSession, type E2eSession } from '../support/e2e-session.ts';

const HAVE_XVFB = existsSync('/usr/bin/Xvfb');

describe(
  'Inspect in a headed chromium under Xvfb',
  { skip: !(HAVE_CHROMIUM && HAVE_XVFB) && 'needs chromium and Xvfb' },
  () => {
    let xvfb: Xvfb;
    let session: E2eSession;
    before(async () => {
      xvfb = await startXvfb();
      session = await openE2eSession({ display: xvfb.display });
    });
    after(async () => {
      await session?.close();
      await xvfb?.close();
    });

    test('the deep link shows its frame with the overlay in a real window', async () => {
      // viewport null: the page takes the real window's size.
      const page = await session.browser.newPage({ viewport: null });
      await page.goto(
        deepLinkUrl(session.serve, demoLink(session.demo, { frame: 24, opacity: 0.7, colormap: 'inferno' })),
      );
      await waitForView(page, 'inspect');
      await waitForFrame(page, 24);
      const shown = await frameOnScreen(page);
      assert.equal(shown.frame, 24);
      assert.equal(shown.tag, 'video');
      await screenshot(page, 'xvfb-inspect-page');
      const file = path.join(await artifactsDir(), 'xvfb-inspect-screen.png');
      await grabScreen(xvfb.display, file);
      const png = await decodePng(file);
      assert.deepEqual([png.width, png.height], [1600, 1000]);
      // The window is on the screen: many distinct colours, not an empty display.
      const colours = new Set<number>();
      for (let i = 0; i < png.rgba.length; i += 4 * 101)
        colours.add((png.rgba[i] << 16) | (png.rgba[i + 1] << 8) | png.rgba[i + 2]);
      assert.ok(colours.size > 50, `${colours.size} colours on the X screen`);
    });
  },
);
