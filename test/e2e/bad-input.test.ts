// Bad input, end to end: browser mode refuses HTTP requests (401) and WebSocket handshakes (403) without
// the token; malformed API calls get bad-request and the connection keeps working; in the UI a file that
// is not a video, one that cannot be decoded, a file that is not a checkpoint and a dataset folder missing
// its split files each give a clear message naming the file, and the app keeps working (what was open
// stays open).
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { encodeMessage } from '../../common/wire.ts';
import {
  ApiCallError,
  dataFrame,
  handshakeStatus,
  HAVE_CHROMIUM,
  screenshot,
  waitForView,
} from '../support/browser.ts';
import {
  deepLinkUrl,
  demoLink,
  inspectHash,
  type InspectLink,
  newPage,
  openE2eSession,
  type E2eSession,
} from '../support/e2e-session.ts';

describe('bad input in browser mode', { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' }, () => {
  let session: E2eSession;
  let page: Page;
  let dir: string;
  let files: { text: string; truncated: string; notModel: string; noSplits: string };

  before(async () => {
    session = await openE2eSession();
    dir = path.join(session.workspace, 'bad-input');
    await mkdir(dir, { recursive: true });
    const { demo } = session;
    const videos = await session.api.call('listVideos', demo.dataset, demo.split);
    const demoVideo = videos[demo.index].videoPath;
    assert.ok(demoVideo, 'the demo video is on disk');
    files = {
      text: path.join(dir, 'notes.txt'),
      truncated: path.join(dir, 'truncated.mp4'),
      notModel: path.join(dir, 'not-a-model.h5'),
      noSplits: path.join(dir, 'dataset-without-splits'),
    };
    await writeFile(files.text, 'these are notes, not a video\n');
    // The first 3 KB of a real video: a header and no pictures.
    await writeFile(files.truncated, (await readFile(demoVideo)).subarray(0, 3000));
    await writeFile(files.notModel, 'not an HDF5 file\n');
    await mkdir(files.noSplits, { recursive: true });
    for (const name of ['dataset.json', 'classes.txt'])
      await copyFile(path.join(demo.dataset, name), path.join(files.noSplits, name));
    ({ page } = await newPage(session.browser));
  });
  after(async () => {
    await session?.close();
  });

  test('HTTP without the token: 401; with it: 200 and the session cookie', async () => {
    const { origin, token } = session.serve;
    for (const url of [`${origin}/`, `${origin}/index.html`, `${origin}/?token=wrong`, `${origin}/media/x`]) {
      const res = await fetch(url);
      assert.equal(res.status, 401, url);
      await res.arrayBuffer();
    }
    const ok = await fetch(`${origin}/?token=${encodeURIComponent(token)}`);
    assert.equal(ok.status, 200);
    assert.match(ok.headers.get('set-cookie') ?? '', /glimpse_token=.*SameSite=Strict/i);
    await ok.arrayBuffer();
  });

  test('WebSocket handshake without the token: 403; with the cookie: accepted', async () => {
    const { origin, token } = session.serve;
    assert.equal(await handshakeStatus(origin), 403);
    assert.equal(await handshakeStatus(origin, { Cookie: 'glimpse_token=wrong' }), 403);
    assert.equal(await handshakeStatus(origin, { Cookie: `glimpse_token=${token}` }), 101);
  });

  test('malformed API calls: bad-request, and the connection keeps working', async () => {
    const { api } = session;
    const refusals: [string, unknown[], RegExp][] = [
      ['noSuchMethod', [], /unknown API method/],
      ['inspect', [{ model: 3 }], /inspect: bad arguments/],
      ['openVideo', [], /openVideo: bad arguments/],
      ['frames', [{ path: '/x', indices: [-1] }], /frames: bad arguments/],
      ['startJob', [{ kind: 'format-disk' }], /startJob: bad arguments/],
    ];
    for (const [method, args, message] of refusals) {
      await assert.rejects(api.callRaw(method, args), (err: unknown) => {
        assert.ok(err instanceof ApiCallError);
        assert.equal(err.data.code, 'bad-request');
        assert.match(err.data.message, message);
        return true;
      });
    }
    // Not even the wire format, then a call message without a method.
    api.sendBytes(new Uint8Array([1, 2, 3]));
    api.sendBytes(encodeMessage({ type: 'call', id: 99, method: '' as 'status', args: [] }));
    const status = await api.call('status');
    assert.equal(status.transport, 'browser');
    assert.ok(
      api.unattributed.some((e) => e.code === 'bad-request'),
      'the undecodable message was answered',
    );
  });

  test('API errors name the file and say which kind of problem it is', async () => {
    const { api } = session;
    const expectError = async (call: Promise<unknown>, file: string) => {
      await assert.rejects(call, (err: unknown) => {
        assert.ok(err instanceof ApiCallError, String(err));
        assert.ok(['bad-file', 'not-found', 'mismatch'].includes(err.data.code), err.data.code);
        assert.ok(
          err.data.file === file || err.data.message.includes(path.basename(file)),
          `${err.data.message} names ${file}`,
        );
        assert.doesNotMatch(err.data.message, /\n|at .*\.ts:\d+/, 'one line, no stack');
        return true;
      });
    };
    await expectError(api.call('openVideo', files.text), files.text);
    await expectError(api.call('openVideo', files.truncated), files.truncated);
    await expectError(api.call('openModel', files.notModel), files.notModel);
    await expectError(api.call('openVideo', path.join(dir, 'missing.mp4')), path.join(dir, 'missing.mp4'));
  });

  /** Opens `bad` by deep link and expects the error banner to name `named`. */
  async function expectBanner(bad: InspectLink, named: string, shot: string): Promise<string> {
    await page.goto(deepLinkUrl(session.serve, bad));
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 120_000 });
    await waitForView(page, 'inspect');
    const text = (await alert.innerText()).replace(/\s+/g, ' ');
    assert.ok(text.includes(path.basename(named)), `the message names ${path.basename(named)}: ${text}`);
    await screenshot(page, shot);
    return text;
  }

  /** The view's heading, after checking that its problem text names the file once. */
  async function failedView(named: string): Promise<string> {
    const view = page.locator('[data-view="inspect"]');
    const problem = await view.locator('.problem').innerText();
    const name = path.basename(named);
    assert.equal(problem.split(name).length - 1, 1, `${name} named once: ${problem}`);
    return view.getByRole('heading', { level: 1 }).innerText();
  }

  /** The app still opens the demo, in the same page, after the error. */
  async function stillWorks(): Promise<void> {
    await page.getByRole('button', { name: 'Dismiss error' }).click();
    await page.evaluate(
      (hash) => {
        (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
      },
      inspectHash(demoLink(session.demo, { frame: 5 })),
    );
    await page.locator('[data-frame="5"]').waitFor({ timeout: 120_000 });
    await waitForView(page, 'inspect');
  }

  test('UI: a file that is not a video', async () => {
    const text = await expectBanner(
      { model: session.demo.model, video: files.text },
      files.text,
      'bad-1-not-a-video',
    );
    assert.match(text, /bad-file|not-found/);
    assert.match(await failedView(files.text), /^Cannot inspect notes\.txt$/);
    await stillWorks();
  });

  test('UI: a video that cannot be decoded', async () => {
    await expectBanner(
      { model: session.demo.model, video: files.truncated },
      files.truncated,
      'bad-2-truncated',
    );
    await stillWorks();
  });

  test('UI: a file that is not a checkpoint', async () => {
    const link = demoLink(session.demo);
    await expectBanner({ ...link, model: files.notModel }, files.notModel, 'bad-3-not-a-checkpoint');
    const heading = await failedView(files.notModel);
    assert.equal(heading, `Cannot open the model ${path.basename(files.notModel)}`);
    await stillWorks();
  });

  test('UI: a dataset folder missing its split files', async () => {
    const link: InspectLink = {
      model: session.demo.model,
      dataset: { dir: files.noSplits, split: session.demo.split, index: 0 },
    };
    await expectBanner(link, files.noSplits, 'bad-4-no-split-files');
    await stillWorks();
  });

  test('UI: what is open stays open when the next file is bad', async () => {
    await page.goto(deepLinkUrl(session.serve, demoLink(session.demo, { frame: 7 })));
    await waitForView(page, 'inspect');
    await page.locator('[data-frame="7"]').waitFor();
    await page.evaluate(
      (hash) => {
        (globalThis as unknown as { location: { hash: string } }).location.hash = hash;
      },
      inspectHash({ model: session.demo.model, video: files.text }),
    );
    await page.getByRole('alert').waitFor({ timeout: 60_000 });
    await waitForView(page, 'inspect');
    assert.equal(await dataFrame(page), 7, 'the demo video is still shown at its frame');
    assert.match(new URL(page.url()).hash, new RegExp(`dataset=${encodeURIComponent(session.demo.dataset)}`));
    await screenshot(page, 'bad-5-open-video-kept');
  });
});
