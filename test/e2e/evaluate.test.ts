// The Evaluate view in headless chromium against the real `glimpse serve`: a full evaluation of the demo's
// test split started from the view the Evaluate menu opens (the same '#/evaluate' navigation the Electron
// menu item sends), progress until done, the headline numbers equal to `glimpse evaluate` (a spawned CLI) on
// the same model and split, the address reopened at once from the kept report, a confusion cell clicked →
// exactly its videos as tiles → one opened in Inspect; then two models paired, McNemar's p and the bootstrap
// interval on screen equal to `glimpse evaluate --compare`. Screenshots go to the artifacts folder.
import assert from 'node:assert/strict';
import { copyFileSync, cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import type { EvaluationReport } from '../../main/workflows/evaluation.ts';
import { artifactsDir, decodePng, HAVE_CHROMIUM, screenshot, waitForView } from '../support/browser.ts';
import { runGlimpse } from '../support/cli.ts';
import { newPage, openE2eSession, type E2eSession } from '../support/e2e-session.ts';

const EVALUATION_MS = 420_000;
const pct = (v: number | undefined) => `${((v ?? NaN) * 100).toFixed(2)}%`;

function cliReport(args: string[]): EvaluationReport {
  const out = path.join(mkdtempSync(path.join(tmpdir(), 'glimpse-e2e-eval-')), 'report.json');
  const r = runGlimpse(['evaluate', ...args, '--out', out]);
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(readFileSync(out, 'utf8')) as EvaluationReport;
}

async function metric(page: Page, name: string): Promise<string> {
  return (await page.locator(`[data-metric="${name}"]`).textContent())?.trim() ?? '';
}

async function waitForResults(page: Page): Promise<void> {
  await page.locator('[data-view="evaluate"][aria-busy="false"] [data-metric]').first().waitFor({
    state: 'visible',
    timeout: EVALUATION_MS,
  });
}

describe('Evaluate view', { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' }, () => {
  let session: E2eSession;
  let page: Page;
  let errors: string[];

  before(async () => {
    session = await openE2eSession();
    ({ page, errors } = await newPage(session.browser));
  });

  after(async () => {
    await session?.close();
  });

  test('run from the menu, numbers equal the CLI, reopen at once, a cell → its videos → Inspect', async () => {
    const { serve, demo } = session;
    await page.goto(`${serve.origin}/?token=${encodeURIComponent(serve.token)}#/inspect`);
    // The Evaluate menu's command: navigate to '#/evaluate' (in browser mode, the Evaluate tab).
    await page.getByRole('navigation', { name: 'Views' }).getByRole('link', { name: 'Evaluate' }).click();
    await waitForView(page, 'evaluate');
    await page.getByLabel('Model A', { exact: true }).fill(demo.model);
    await page.getByLabel('Dataset', { exact: true }).fill(demo.dataset);
    await page.locator('select[aria-label="Split"] option[value="test"]').waitFor({ state: 'attached' });
    await page.getByRole('combobox', { name: 'Split' }).selectOption('test');
    await page.getByRole('button', { name: 'Run evaluation' }).click();
    await page.getByRole('progressbar').first().waitFor({ state: 'visible', timeout: 60_000 });
    await screenshot(page, 'evaluate-running');
    await waitForResults(page);
    await screenshot(page, 'evaluate-results');

    const cli = cliReport(['--model', demo.model, '--dataset', demo.dataset, '--split', 'test']);
    assert.equal(await metric(page, 'accuracy'), pct(cli.metrics.accuracy));
    const perClass = (cli.metrics.perClassAccuracy ?? []).filter((v): v is number => v !== null);
    assert.equal(
      await metric(page, 'meanClassAccuracy'),
      pct(perClass.reduce((a, b) => a + b, 0) / perClass.length),
    );
    assert.match(
      (await page.locator('.protocol').textContent()) ?? '',
      new RegExp(`stride 1 · last_n ${cli.settings.lastN}`),
    );
    const hash = new URL(page.url()).hash;
    assert.ok(hash.startsWith('#/evaluate?model='), hash);
    assert.ok(
      hash.includes(`dataset=${encodeURIComponent(demo.dataset)}`) && hash.includes('split=test'),
      hash,
    );

    // The same address again is the kept report: no job, numbers at once.
    const jobsBefore = (await session.api.call('listJobs')).length;
    const t0 = Date.now();
    await page.goto(`${serve.origin}/${hash}`);
    await waitForResults(page);
    assert.ok(Date.now() - t0 < 15_000, `reopened in ${Date.now() - t0} ms`);
    assert.equal(await metric(page, 'accuracy'), pct(cli.metrics.accuracy));
    assert.equal((await session.api.call('listJobs')).length, jobsBefore, 'no new job on reopening');

    // A confusion cell: the diagonal cell of the first video's class.
    const confusion = cli.metrics.confusion ?? [];
    const row = cli.videos[0].label as number;
    const col = cli.videos[0].prediction as number;
    const canvas = page.getByRole('grid', { name: 'Confusion matrix' });
    const renderMs = Number(await canvas.getAttribute('data-render-ms'));
    assert.ok(renderMs >= 0 && renderMs < 16, `confusion drawn in ${renderMs} ms`);
    const n = confusion.length;
    const margin = n > 20 ? 28 : 90;
    const cell = Math.max(6, Math.min(48, Math.floor((560 - margin) / n)));
    await canvas.click({
      position: { x: margin + col * cell + cell / 2, y: margin + row * cell + cell / 2 },
    });
    const tiles = page.locator('section[aria-label="Videos"] .tile');
    await tiles.first().waitFor({ state: 'visible' });
    const expected = cli.videos.filter((v) => v.label === row && v.prediction === col).map((v) => v.index);
    assert.equal(confusion[row][col], expected.length);
    const shownIndices = await tiles.evaluateAll((els) =>
      els.map((e) => Number(e.getAttribute('data-index'))),
    );
    assert.deepEqual(shownIndices, expected);
    // Each tile: a mean-attention thumbnail, an entropy sparkline and its confidence.
    const first = tiles.first();
    assert.equal(await first.locator('canvas[aria-label^="mean attention"]').count(), 1);
    assert.equal(await first.getByRole('img', { name: /^entropy per clip/ }).count(), 1);
    const conf = Number(await first.locator('[data-confidence]').getAttribute('data-confidence'));
    const video = cli.videos.find((v) => v.index === expected[0]);
    assert.ok(
      video && Math.abs(conf - video.scores[video.prediction as number]) < 1e-3,
      `confidence ${conf}`,
    );
    await screenshot(page, 'evaluate-cell');

    // Exports: the per-video CSV and JSON, the confusion matrix as SVG (every cell) and PNG (decodes).
    const saved = async (name: string): Promise<string> => {
      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('button', { name, exact: true }).click(),
      ]);
      const file = path.join(await artifactsDir(), `evaluate-${download.suggestedFilename()}`);
      await download.saveAs(file);
      return file;
    };
    const csv = readFileSync(await saved('Export CSV'), 'utf8')
      .trim()
      .split('\n');
    assert.equal(csv.length, cli.videos.length + 1);
    assert.match(
      csv[0],
      /^index,file,label,prediction,correct,confidence,mean_entropy,coverage_penalty,split,stride,last_n$/,
    );
    const json = JSON.parse(readFileSync(await saved('Export JSON'), 'utf8')) as {
      videos: unknown[];
      metrics: unknown;
    };
    assert.equal(json.videos.length, cli.videos.length);
    assert.deepEqual(json.metrics, cli.metrics);
    const svg = readFileSync(await saved('Export confusion matrix SVG'), 'utf8');
    assert.equal(svg.match(/<rect x=/g)?.length, n * n);
    const png = await decodePng(await saved('Export confusion matrix PNG'));
    assert.ok(png.width >= 200 && png.height === png.width, `${png.width}×${png.height}`);
    const bars = readFileSync(await saved('Export per-class bars SVG'), 'utf8');
    assert.match(bars, /^<svg[^>]+xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.ok((await decodePng(await saved('Export per-class bars PNG'))).width > 0);

    await first.locator('a.open').click();
    await waitForView(page, 'inspect', 180_000);
    const inspect = new URL(page.url()).hash;
    assert.ok(inspect.startsWith('#/inspect?'), inspect);
    assert.ok(inspect.includes(`index=${expected[0]}`) && inspect.includes('split=test'), inspect);
    assert.ok(inspect.includes(`model=${encodeURIComponent(demo.model)}`), inspect);
    await screenshot(page, 'evaluate-opened-in-inspect');
    assert.deepEqual(errors, []);
  });

  test('two models paired: McNemar p and the bootstrap interval as `glimpse evaluate --compare`', async () => {
    const { serve, demo } = session;
    // B: the demo run's last-epoch checkpoint, copied so this test owns it.
    const last = demo.model.replace(/\.h5$/, '.resume.h5');
    assert.ok(existsSync(last), `${last} is missing`);
    const modelB = path.join(mkdtempSync(path.join(tmpdir(), 'glimpse-e2e-b-')), 'last.h5');
    copyFileSync(last, modelB);
    const params = new URLSearchParams({
      model: `${demo.model},${modelB}`,
      dataset: demo.dataset,
      split: 'test',
      stride: '8',
    });
    await page.goto(
      `${serve.origin}/?token=${encodeURIComponent(serve.token)}#/evaluate?${params.toString().replace(/\+/g, '%20')}`,
    );
    await waitForView(page, 'evaluate');
    await page.getByRole('button', { name: 'Run evaluation' }).click();
    await page.locator('[data-stat="mcnemar"]').waitFor({ state: 'visible', timeout: EVALUATION_MS });
    await waitForResults(page);
    await screenshot(page, 'evaluate-paired');
    const cli = cliReport([
      ...['--model', demo.model, '--compare', modelB, '--dataset', demo.dataset, '--split', 'test'],
      ...['--stride', '8'],
    ]);
    const acc = cli.comparison?.paired.accuracy;
    assert.ok(acc, 'CLI paired statistics');
    assert.equal(await page.locator('[data-stat="mcnemar"]').textContent(), acc.mcnemarP.toPrecision(4));
    const sign = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;
    assert.equal(
      await page.locator('[data-stat="interval"]').textContent(),
      `[${sign(acc.interval.low)}, ${sign(acc.interval.high)}]`,
    );
    assert.equal(await page.locator('[data-stat="difference"]').textContent(), sign(acc.difference));
    assert.equal(await metric(page, 'accuracy'), pct(cli.metrics.accuracy));

    // A dataset of another class count: a banner naming the model and the mismatch, the results stay.
    const other = path.join(mkdtempSync(path.join(tmpdir(), 'glimpse-e2e-classes-')), 'features');
    cpSync(demo.dataset, other, { recursive: true });
    writeFileSync(path.join(other, 'classes.txt'), 'a\nb\nc\nd\ne\n');
    await page.getByLabel('Model B', { exact: true }).fill('');
    await page.getByLabel('Dataset', { exact: true }).fill(other);
    await page.getByRole('button', { name: 'Run evaluation' }).click();
    const banner = page.getByRole('alert');
    await banner.waitFor({ state: 'visible', timeout: 60_000 });
    const text = (await banner.textContent()) ?? '';
    assert.match(text, /mismatch/);
    assert.match(text, /does not fit .*classes against the dataset's 5/);
    await screenshot(page, 'evaluate-mismatch');
    assert.equal(await metric(page, 'accuracy'), pct(cli.metrics.accuracy), 'the results stay on screen');
    assert.deepEqual(errors, []);
  });
});
