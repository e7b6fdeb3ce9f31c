// The e2e helpers themselves, on a plain page: chromium launches headless and headed (Xvfb), the frame on
// screen is read from a <video> of a frame-coded long-GOP H.264, and the X screen can be grabbed.
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import {
  artifactsDir,
  decodePng,
  frameOnScreen,
  grabScreen,
  HAVE_CHROMIUM,
  launchChromium,
  startXvfb,
} from '../support/browser.ts';
import { makeLongGopH264, type FrameCodedVideo } from '../support/frame-coded-videos.ts';

describe('e2e helpers on a plain page', { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' }, () => {
  let dir: string;
  let video: FrameCodedVideo;
  let pageUrl: string;
  let browser: Browser;
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-e2e-support-'));
    video = await makeLongGopH264(dir, { seconds: 4 });
    const html = path.join(dir, 'player.html');
    await writeFile(
      html,
      `<!doctype html><div data-view="inspect" aria-busy="false"><div data-frame="0">` +
        `<video aria-label="video frame" muted src="${pathToFileURL(video.path).href}"></video></div></div>`,
    );
    pageUrl = pathToFileURL(html).href;
    // A file:// video would taint the canvas; the app serves its videos from its own origin.
    browser = await launchChromium({ args: ['--allow-file-access-from-files'] });
  });
  after(async () => {
    await browser?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('frameOnScreen reads the code of the frame a seek shows, mid-GOP included', async () => {
    const page = await browser.newPage();
    await page.goto(pageUrl);
    for (const n of [0, 1, 17, 59, 60, 100, 119]) {
      // Seek to the middle of frame n, wait for it to be presented, then say so in data-frame.
      await page.evaluate(async (n) => {
        const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
        const v = doc.querySelector('video') as {
          currentTime: number;
          requestVideoFrameCallback(cb: () => void): void;
          closest(s: string): { setAttribute(k: string, v: string): void };
        };
        await new Promise<void>((resolve) => {
          v.requestVideoFrameCallback(() => resolve());
          v.currentTime = (n + 0.5) / 30;
        });
        v.closest('[data-frame]').setAttribute('data-frame', String(n));
      }, n);
      const shown = await frameOnScreen(page);
      assert.equal(shown.tag, 'video');
      assert.equal(shown.frame, n);
      assert.equal(shown.code, video.codesAt30[n], `frame ${n}`);
      assert.deepEqual([shown.width, shown.height], [320, 240]);
    }
    await page.close();
  });

  test('a headed chromium window in Xvfb, grabbed from the X screen', async () => {
    const xvfb = await startXvfb();
    try {
      const headed = await launchChromium({
        display: xvfb.display,
        args: ['--allow-file-access-from-files'],
      });
      try {
        // viewport null: the page fills the real window (--window-size), not a fixed emulated viewport.
        const page = await headed.newPage({ viewport: null });
        await page.goto(pageUrl);
        await page.waitForFunction(() => {
          const doc = (globalThis as unknown as { document: { querySelector(s: string): unknown } }).document;
          return (doc.querySelector('video') as { readyState: number }).readyState >= 2;
        });
        const file = path.join(await artifactsDir(), 'support-xvfb-screen.png');
        await grabScreen(xvfb.display, file);
        const png = await decodePng(file);
        assert.deepEqual([png.width, png.height], [1600, 1000]);
        // Not a blank screen: the window and the video's white reference cell are on it.
        const levels = new Set<number>();
        for (let i = 0; i < png.rgba.length; i += 4 * 997) levels.add(png.rgba[i]);
        assert.ok(levels.size > 3, `screen shows ${levels.size} grey levels`);
      } finally {
        await headed.close();
      }
    } finally {
      await xvfb.close();
    }
  });
});
