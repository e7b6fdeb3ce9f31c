// The Train view in headless chromium against the real `glimpse serve`: a run started from the New Run
// form (quick preset, the demo's features), its curves growing as the run log grows, Stop training, the
// checkpoints listed with the validation scores the API reports (the best marked), Resume training, a new
// checkpoint listed; the app closed mid-run and restarted (the run offered for resume); that checkpoint opened
// in Inspect, and in Compare beside another epoch. A bad field keeps the form from starting.
// Screenshots go to the artifacts folder.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { RunDetail } from '../../main/engine/api.ts';
import {
  ApiClient,
  HAVE_CHROMIUM,
  screenshot,
  type ServeHandle,
  startServe,
  waitForView,
} from '../support/browser.ts';
import { newPage, openE2eSession, type E2eSession } from '../support/e2e-session.ts';

const TIMEOUT = 240_000;

async function pointsOf(page: Page, label: RegExp): Promise<number> {
  const value = await page.getByRole('img', { name: label }).getAttribute('data-points');
  return Number(value ?? NaN);
}

async function until(
  page: Page,
  what: string,
  probe: () => Promise<boolean>,
  timeoutMs = TIMEOUT,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await page.waitForTimeout(200);
  }
}

/** Checkpoint epochs as the table lists them. */
async function listedEpochs(page: Page): Promise<number[]> {
  const epochs = await page
    .locator('table[aria-label="Checkpoints"] tbody tr')
    .evaluateAll((rows) => rows.map((r) => Number(r.getAttribute('data-epoch'))));
  return epochs.sort((a, b) => a - b);
}

describe('Train view', { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' }, () => {
  let session: E2eSession;
  let page: Page;
  let errors: string[];
  let restarted: ServeHandle | null = null;
  let api2: ApiClient | null = null;

  before(async () => {
    session = await openE2eSession();
    ({ page, errors } = await newPage(session.browser));
  });

  after(async () => {
    api2?.close();
    await restarted?.close();
    await session?.close();
  });

  test('start a run from the form, watch it, stop, resume, open the new checkpoint in Inspect', async () => {
    const { serve, api, demo } = session;
    await page.goto(`${serve.origin}/?token=${encodeURIComponent(serve.token)}#/train`);
    await waitForView(page, 'train');
    await page.getByRole('combobox', { name: 'Preset' }).selectOption('quick');
    await page.getByLabel('Dataset folder', { exact: true }).fill(demo.dataset);
    await page.getByRole('combobox', { name: 'Validation split' }).and(page.locator(':enabled')).waitFor();
    assert.equal(await page.getByRole('combobox', { name: 'Validation split' }).inputValue(), 'valid');
    await page.getByRole('textbox', { name: 'Run name' }).fill('e2e quick');

    // A bad field: the form says which and does not start.
    const dim = page.getByRole('spinbutton', { name: 'dim', exact: true });
    await dim.fill('0');
    await page.getByText('a whole number ≥ 1').waitFor();
    assert.equal(await page.getByRole('button', { name: 'Start training' }).isDisabled(), true);
    await dim.fill('32');
    await page.getByRole('spinbutton', { name: 'epochs' }).fill('12');
    // Half the preset's clips: shorter epochs on a busy machine.
    await page.getByRole('spinbutton', { name: 'training stride' }).fill('4');
    await screenshot(page, 'train-form');

    await page.getByRole('button', { name: 'Start training' }).click();
    await page.waitForURL(/#\/train\?run=e2e-quick-[0-9a-f]{6}$/, { timeout: 30_000 });
    const id = decodeURIComponent(new URL(page.url()).hash.split('run=')[1]);

    // The curves grow while it trains.
    const loss = /Training loss curve/;
    const score = /Validation accuracy curve/;
    await until(page, 'a first loss point', async () => (await pointsOf(page, loss)) >= 1);
    const early = await pointsOf(page, loss);
    await until(page, 'more loss points', async () => (await pointsOf(page, loss)) > early);
    await until(page, 'a first validation point', async () => (await pointsOf(page, score)) >= 1);
    await screenshot(page, 'train-running');

    await page.getByRole('button', { name: 'Stop training' }).click();
    await page.getByRole('button', { name: 'Resume training' }).waitFor({ timeout: 60_000 });
    await page.locator('[data-run-state="cancelled"]').waitFor();
    const stopped: RunDetail = await api.call('getRun', id);
    assert.equal(stopped.state, 'cancelled');
    assert.ok(stopped.epochsDone >= 1 && stopped.epochsDone < 12, `epochs done ${stopped.epochsDone}`);
    // The list is the API's: each epoch, its score, the best marked.
    await until(
      page,
      'the checkpoint table',
      async () => (await listedEpochs(page)).length === stopped.epochsDone,
    );
    for (const c of stopped.checkpoints) {
      const row = page.locator(`table[aria-label="Checkpoints"] tr[data-epoch="${c.epoch}"]`);
      assert.match(
        (await row.innerText()).replace(/\s+/g, ' '),
        new RegExp(`${(c.validScore * 100).toFixed(2)}%`),
      );
      assert.equal(await row.getByText('★ best').count(), c.best ? 1 : 0, `best mark of epoch ${c.epoch}`);
    }
    assert.equal(await pointsOf(page, score), stopped.epochsDone);
    assert.equal(
      await pointsOf(page, loss),
      stopped.points.length,
      'the loss curve draws every batch and epoch point of the log',
    );
    await screenshot(page, 'train-stopped');

    await page.getByRole('button', { name: 'Resume training' }).click();
    await page.getByRole('button', { name: 'Stop training' }).waitFor({ timeout: 60_000 });
    const newest = stopped.epochsDone + 1;
    await until(page, `checkpoint ${newest} listed`, async () => (await listedEpochs(page)).includes(newest));
    await screenshot(page, 'train-resumed');
    assert.deepEqual(errors, []);

    // The app closes while the run trains; after a restart the run is offered for resume.
    await serve.close();
    restarted = await startServe({ workspace: session.workspace });
    api2 = await ApiClient.connect(restarted);
    ({ page, errors } = await newPage(session.browser));
    await page.goto(`${restarted.origin}/?token=${encodeURIComponent(restarted.token)}#/train?run=${id}`);
    await waitForView(page, 'train');
    await page.locator('[data-run-state="interrupted"]').waitFor();
    await page.getByText('This run was cut off when the app closed').waitFor();
    await page.getByRole('button', { name: 'Resume training' }).waitFor();
    await screenshot(page, 'train-after-restart');
    const resumed: RunDetail = await api2.call('getRun', id);
    assert.equal(resumed.state, 'interrupted');
    assert.equal(resumed.resumable, true);
    assert.deepEqual(
      resumed.points.filter((p) => p.kind === 'epoch').map((p) => p.epoch),
      Array.from({ length: resumed.epochsDone }, (_, i) => i + 1),
      'each epoch once after the resume',
    );
    const checkpoint = resumed.checkpoints.find((c) => c.epoch === newest);
    assert.ok(checkpoint, `checkpoint ${newest} is in the API's list`);

    // The new checkpoint in Inspect.
    await page
      .locator(`table[aria-label="Checkpoints"] tr[data-epoch="${newest}"]`)
      .getByRole('link', { name: 'Inspect' })
      .click();
    await waitForView(page, 'inspect', TIMEOUT);
    const hash = decodeURIComponent(new URL(page.url()).hash);
    assert.ok(hash.includes(`model=${checkpoint.path}`), hash);
    assert.ok(hash.includes(`dataset=${demo.dataset}`), hash);
    await page.locator('[data-frame]').first().waitFor();
    await screenshot(page, 'train-inspect-checkpoint');

    // And in Compare, beside the best epoch's.
    await page.goBack();
    await waitForView(page, 'train');
    await page
      .locator(`table[aria-label="Checkpoints"] tr[data-epoch="${newest}"]`)
      .getByRole('link', { name: 'Compare' })
      .click();
    await waitForView(page, 'compare', TIMEOUT);
    const models = new URLSearchParams(new URL(page.url()).hash.split('?')[1]).get('models')?.split(',');
    assert.equal(models?.[0], checkpoint.path);
    assert.ok(
      resumed.checkpoints.some((c) => c.path === models?.[1]),
      `second model ${models?.[1]}`,
    );
    await screenshot(page, 'train-compare-checkpoint');
    assert.deepEqual(errors, []);
  });
});
