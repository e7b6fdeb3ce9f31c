// The frame on screen is the frame the view says (DESIGN.md "Frame identity"), on videos whose every
// frame carries its own index: H.264 with a 250-frame GOP and B-frames, an MPEG-4 part 2 (XVID) AVI that
// Chromium cannot play without the engine's proxy, and a 25 fps H.264 that the engine resamples to 30
// (row n then shows the source frame ffmpeg's fps filter picks). Stepping with buttons and keys, seeks
// (in-page hash changes), full deep-link loads with &frame=N, and a pause during playback.
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import {
  codeInScreenshot,
  artifactsDir,
  FRAME_SELECTOR,
  frameOnScreen,
  HAVE_CHROMIUM,
  screenshot,
  waitForFrame,
  waitForFrameAtLeast,
  waitForView,
} from '../support/browser.ts';
import {
  deepLinkUrl,
  inspectHash,
  newPage,
  openE2eSession,
  type E2eSession,
} from '../support/e2e-session.ts';
import { makeFrameCodedVideos, type FrameCodedVideo } from '../support/frame-coded-videos.ts';

/** Opening a new video runs extraction with the model's backbone and inference: minutes on a busy machine. */
const OPEN_MS = 10 * 60_000;

describe('frame identity on frame-coded videos', { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' }, () => {
  let session: E2eSession;
  let videos: FrameCodedVideo[];
  let page: Page;
  let errors: string[];

  before(async () => {
    session = await openE2eSession();
    // Deterministic files: on a rerun of this commit the engine finds them in its cache.
    const dir = path.join(session.workspace, 'frame-coded');
    await mkdir(dir, { recursive: true });
    const made = await makeFrameCodedVideos(dir);
    videos = [made.h264, made.xvid, made.h264At25];
    ({ page, errors } = await newPage(session.browser));
  });
  after(async () => {
    await session?.close();
  });

  /** The view's frame and the picture's code agree, and are what ffmpeg's fps filter gives for that row. */
  async function expectShown(video: FrameCodedVideo, n: number, how: string): Promise<void> {
    await waitForFrame(page, n);
    const shown = await frameOnScreen(page);
    assert.equal(shown.frame, n, `${video.kind}, ${how}: data-frame`);
    assert.equal(
      shown.code,
      video.codesAt30[n],
      `${video.kind}, ${how}: frame ${n} shows code ${shown.code}`,
    );
  }

  function link(video: FrameCodedVideo, frame?: number) {
    return { model: session.demo.model, video: video.path, frame, opacity: 0 };
  }

  for (const kind of ['h264-long-gop', 'mpeg4-xvid-avi', 'h264-25fps']) {
    test(`${kind}: open, step with buttons and keys, seek, deep-link, pause`, async (t) => {
      const video = videos.find((v) => v.kind === kind);
      assert.ok(video, kind);
      t.diagnostic(video.path);
      const last = video.codesAt30.length - 1;
      await page.goto(deepLinkUrl(session.serve, link(video)));
      await waitForView(page, 'inspect', OPEN_MS);
      await expectShown(video, 0, 'opened');
      await screenshot(page, `frames-${video.kind}-opened`);

      // Buttons, across frames that need decoding from far back in the GOP.
      const next = page.getByRole('button', { name: 'Next frame', exact: true });
      for (let n = 1; n <= 12; n++) {
        await next.click();
        await expectShown(video, n, 'Next frame');
      }
      await page.getByRole('button', { name: 'Previous frame', exact: true }).click();
      await expectShown(video, 11, 'Previous frame');

      // Keyboard.
      await page.locator(FRAME_SELECTOR).click();
      for (const [key, n] of [
        ['ArrowRight', 12],
        ['ArrowRight', 13],
        ['ArrowLeft', 12],
      ] as const) {
        await page.keyboard.press(key);
        await expectShown(video, n, key);
      }

      // Seeks: the hash changes in the page, no reload; mid-GOP, around keyframes, backwards.
      const seeks = [200, 249, 250, 251, 137, 1, 299, 298, 60, 59, 123, last];
      for (const n of seeks.filter((s) => s <= last)) {
        await page.evaluate(
          (hash) => {
            (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
          },
          inspectHash(link(video, n)),
        );
        await expectShown(video, n, 'seek');
      }

      // Full loads of deep links with &frame=N.
      for (const n of [157, 251, 42].filter((s) => s <= last)) {
        await page.goto('about:blank');
        await page.goto(deepLinkUrl(session.serve, link(video, n)));
        await waitForView(page, 'inspect', 60_000);
        await expectShown(video, n, 'deep link');
      }

      // The screen itself (opacity 0: the overlay is invisible) shows the same code.
      const file = path.join(await artifactsDir(), `frames-${video.kind}-picture.png`);
      assert.equal(await codeInScreenshot(page, file), video.codesAt30[42], 'screenshot of the picture');

      // A frame past the end: the last frame, and the address corrected to it.
      await page.goto('about:blank');
      await page.goto(deepLinkUrl(session.serve, link(video, last + 40)));
      await waitForView(page, 'inspect', 60_000);
      await expectShown(video, last, 'deep link past the end');
      const hash = await page.evaluate(
        () => (globalThis as unknown as { location: { hash: string } }).location.hash,
      );
      assert.match(hash, new RegExp(`[?&]frame=${last}(&|$)`), 'the address names the last frame');

      // Play, then pause: the frame it stops on is the frame it says.
      await page.goto(deepLinkUrl(session.serve, link(video, 100)));
      await waitForView(page, 'inspect', 60_000);
      await page.getByRole('button', { name: 'Play', exact: true }).click();
      await waitForFrameAtLeast(page, 110);
      await page.getByRole('button', { name: 'Pause', exact: true }).click();
      await page.getByRole('button', { name: 'Play', exact: true }).waitFor();
      await page.locator('[data-view="inspect"][aria-busy="false"]').waitFor();
      const stopped = await frameOnScreen(page);
      assert.equal(
        stopped.code,
        video.codesAt30[stopped.frame],
        `${video.kind}: paused on frame ${stopped.frame}`,
      );
      await screenshot(page, `frames-${video.kind}-paused`);
    });
  }

  test('no errors in the page console', () => {
    assert.deepEqual(errors, []);
  });
});
