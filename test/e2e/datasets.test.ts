// The Datasets view in headless chromium against the real `glimpse serve`: the demo's feature dataset shows
// the numbers its files hold; a small folder of synthetic videos is recognised as 'synth' and extracted by a
// job from the view, which then opens the result; a Fortran-order (frames, 7, 7, D) file written by h5py from
// the demo's training features is detected (the right reading ranked first, candidates side by side),
// imported on confirmation into exactly the demo's bytes, and a model trains on the imported dataset.
import assert from 'node:assert/strict';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { Page } from 'playwright-core';
import { writeDatasetJson, writeFeatureDataset } from '../../model/data/writer.ts';
import { HAVE_CHROMIUM, screenshot, waitForView } from '../support/browser.ts';
import { runGlimpse, runPython } from '../support/cli.ts';
import { newPage, openE2eSession, type E2eSession } from '../support/e2e-session.ts';

// The demo's reference rows (channel-major l + L·c) as a (frames, K, K, D) array, written as MATLAB would
// (every dimension reversed: h5py sees (D, K, K, frames)).
const WRITE_FORTRAN = String.raw`
import sys, json, numpy as np, h5py
src, out = sys.argv[1], sys.argv[2]
info = json.load(open(src + '/dataset.json'))
L, D = info['locations'], info['ctxDim']; K = int(round(L ** 0.5))
ref = h5py.File(src + '/train_features.h5', 'r')['features'][()]
a = ref.reshape(-1, D, K, K).transpose(0, 2, 3, 1)
with h5py.File(out, 'w') as h: h['features'] = np.ascontiguousarray(a.T)
print(json.dumps(list(a.T.shape)))
`;

const SAME_BITS = String.raw`
import sys, numpy as np, h5py
a = h5py.File(sys.argv[1], 'r')['features'][()]; b = h5py.File(sys.argv[2], 'r')['features'][()]
print('same' if a.shape == b.shape and np.array_equal(a.view(np.uint32), b.view(np.uint32)) else 'differ')
`;

async function lines(file: string): Promise<string[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l.trim() !== '');
}

function hashOf(dir: string): string {
  return `#/datasets?dataset=${encodeURIComponent(dir)}`;
}

async function cell(page: Page, split: string, col: string): Promise<string> {
  return (await page.locator(`[data-split="${split}"] [data-col="${col}"]`).textContent())?.trim() ?? '';
}

describe('Datasets view in headless chromium', { skip: !HAVE_CHROMIUM && 'no /usr/bin/chromium' }, () => {
  let session: E2eSession;
  let page: Page;
  let errors: string[];
  let dir: string;

  before(async () => {
    session = await openE2eSession();
    dir = path.join(session.workspace, 'datasets-e2e');
    await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    ({ page, errors } = await newPage(session.browser));
  });
  after(async () => {
    await session?.close();
  });

  test('the demo dataset: shape, backbone, classes, split sizes and frames per video as its files say', async () => {
    const { demo, serve } = session;
    await page.goto(`${serve.origin}/?token=${encodeURIComponent(serve.token)}${hashOf(demo.dataset)}`);
    const view = await waitForView(page, 'datasets');
    await view.locator('[data-stat="shape"]').waitFor();
    const info = JSON.parse(await readFile(path.join(demo.dataset, 'dataset.json'), 'utf8')) as {
      backbone: string;
      locations: number;
      ctxDim: number;
    };
    assert.match(
      (await view.locator('[data-stat="shape"]').textContent()) ?? '',
      new RegExp(`^${info.locations} × ${info.ctxDim} \\(7×7 grid\\)`),
    );
    assert.equal(await view.locator('[data-stat="backbone"]').textContent(), info.backbone);
    const classes = await lines(path.join(demo.dataset, 'classes.txt'));
    assert.equal(await view.locator('[data-stat="classes"]').textContent(), String(classes.length));
    for (const split of ['train', 'valid', 'test']) {
      const counts = (await lines(path.join(demo.dataset, `${split}_framenum.txt`))).map(Number);
      const sorted = [...counts].sort((a, b) => a - b);
      assert.equal(await cell(page, split, 'videos'), String(counts.length), split);
      assert.equal(await cell(page, split, 'frames'), String(counts.reduce((a, b) => a + b, 0)), split);
      assert.equal(await cell(page, split, 'min'), String(sorted[0]));
      assert.equal(await cell(page, split, 'max'), String(sorted[sorted.length - 1]));
      const labels = (await lines(path.join(demo.dataset, `${split}_labels.txt`))).map(Number);
      for (const [c, name] of classes.entries()) {
        const shown = await view.locator(`[data-class="${name}"] td`).allTextContents();
        // Columns: #, class, then one per split in the dataset's (sorted) split order.
        assert.equal(
          shown[2 + ['test', 'train', 'valid'].indexOf(split)],
          String(labels.filter((l) => l === c).length),
          `${name} in ${split}`,
        );
      }
    }
    // Synthetic names are not UCF-11 names: the group check says it does not apply.
    assert.equal(await view.locator('[data-check="leakage"]').getAttribute('data-ok'), 'n/a');
    assert.ok((await view.locator('svg[aria-label="Frames per video"] rect').count()) > 0);
    await screenshot(page, 'datasets-1-demo');
  });

  test('UCF-11 names with a group in two splits: the check fails and lists the group', async () => {
    const leaky = path.join(dir, 'leaky-ucf');
    const rows = (n: number) => new Float32Array(n * 4 * 3).fill(0.5);
    const clip = (g: string, c: string) => ({
      file: `biking/v_biking_${g}/v_biking_${g}_${c}.avi`,
      label: 0,
      frames: rows(6),
    });
    await writeFeatureDataset(leaky, 'train', [clip('01', '01'), clip('02', '01')], 4, 3);
    await writeFeatureDataset(leaky, 'test', [clip('01', '02'), clip('03', '01')], 4, 3);
    const frameSize = { width: 224, height: 224 };
    const info = { backbone: 'test', frameSize, fps: 30, locations: 4, ctxDim: 3, provenance: {} } as const;
    await writeDatasetJson(leaky, { ...info, layout: 'channel-major' });
    await page.evaluate(
      (h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h),
      hashOf(leaky),
    );
    const view = await waitForView(page, 'datasets');
    const check = view.locator('[data-check="leakage"][data-ok="false"]');
    await check.waitFor();
    assert.equal(await view.locator('[data-group]').count(), 1);
    assert.match(
      (await view.locator('[data-group="biking/01"]').textContent()) ?? '',
      /biking\/01: test, train/,
    );
    await screenshot(page, 'datasets-2-leak');
  });

  test('bad input: a file that is not HDF5 gets a banner naming it, and the view keeps working', async () => {
    const notHdf5 = path.join(dir, 'notes.h5');
    await writeFile(notHdf5, 'not features\n');
    const { demo } = session;
    await page.evaluate(
      (h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h),
      hashOf(demo.dataset),
    );
    const view = await waitForView(page, 'datasets');
    await view.locator('[data-stat="shape"]').waitFor();
    await view.getByLabel('Feature file').fill(notHdf5);
    await view.getByRole('button', { name: 'Detect layout' }).click();
    const banner = page.getByRole('alert');
    await banner.waitFor();
    assert.match((await banner.textContent()) ?? '', /notes\.h5.*not an HDF5 file/);
    await page.getByRole('button', { name: 'Dismiss error' }).click();
    await waitForView(page, 'datasets');
    assert.equal(await view.locator('[data-candidate]').count(), 0);
    assert.ok(await view.locator('[data-stat="shape"]').isVisible());
  });

  test('a folder of videos: detected as synth, extracted by a job from the view, the result opened', async () => {
    const videos = path.join(dir, 'videos');
    const made = runGlimpse([
      'synth',
      '--out',
      videos,
      '--classes',
      '2',
      '--videos',
      '3',
      '--frames',
      '12',
      '--seed',
      '5',
    ]);
    assert.equal(made.code, 0, made.stderr);
    await page.evaluate(
      (h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h),
      hashOf(videos),
    );
    const view = await waitForView(page, 'datasets');
    await view.locator('[data-stat="detected-kind"]').waitFor();
    assert.equal(await view.locator('[data-stat="detected-kind"]').textContent(), 'synth');
    const out = path.join(dir, 'videos-features');
    assert.equal(await view.getByLabel('Output folder', { exact: true }).inputValue(), out);
    await screenshot(page, 'datasets-3-video-folder');
    // A queue URL that is not redis:// is refused in one line before any job starts; empty runs here.
    const queue = view.getByLabel('Queue', { exact: true });
    await queue.fill('http://127.0.0.1:6379');
    await view.getByRole('button', { name: 'Extract features' }).click();
    const banner = page.getByRole('alert');
    await banner.waitFor();
    const text = (await banner.textContent()) ?? '';
    assert.match(text, /queue: expected a queue URL redis:\/\/HOST:PORT/);
    assert.ok(!text.includes('\n'), text);
    await page.getByRole('button', { name: 'Dismiss error' }).click();
    await queue.fill('');
    await view.getByRole('button', { name: 'Extract features' }).click();
    await page.waitForFunction(
      (h) => (globalThis as unknown as { location: { hash: string } }).location.hash === h,
      hashOf(out),
      { timeout: 180_000 },
    );
    await waitForView(page, 'datasets');
    await view.locator('[data-stat="shape"]').waitFor();
    const total = (
      await Promise.all(
        ['train', 'valid', 'test'].map(async (s) => Number(await cell(page, s, 'videos').catch(() => '0'))),
      )
    ).reduce((a, b) => a + b, 0);
    assert.equal(total, 6);
    await screenshot(page, 'datasets-4-extracted');
  });

  test('import a Fortran-order (frames, 7, 7, D) file: ranked first, converted on confirmation, trains', async () => {
    const { demo } = session;
    const file = path.join(dir, 'demo-train-fortran.h5');
    const shape = JSON.parse(runPython(WRITE_FORTRAN, [demo.dataset, file])) as number[];
    await page.evaluate(
      (h) => ((globalThis as unknown as { location: { hash: string } }).location.hash = h),
      hashOf(demo.dataset),
    );
    const view = await waitForView(page, 'datasets');
    await view.locator('[data-stat="shape"]').waitFor();
    const out = path.join(dir, 'imported');
    await view.getByLabel('Feature file').fill(file);
    assert.equal(await view.getByLabel('Text folder').inputValue(), demo.dataset);
    await view.getByLabel('Text split').fill('train');
    await view.getByLabel('Import output folder').fill(out);
    await view.getByLabel('Import split').fill('train');
    await view.getByRole('button', { name: 'Detect layout' }).click();
    const best = view.locator('[data-candidate][data-rank="1"]');
    await best.waitFor({ timeout: 60_000 });
    assert.equal(await best.getAttribute('data-candidate'), 'kkd-f');
    assert.match(
      (await view.locator('[data-stat="import-shape"]').textContent()) ?? '',
      new RegExp(`\\[${shape.join(', ')}\\]`),
    );
    // Side by side: every candidate with its maps; the C-order reading is there and does not fit the counts.
    assert.ok((await view.locator('[data-candidate]').count()) >= 2);
    assert.match((await view.locator('[data-candidate="kkd-c"]').textContent()) ?? '', /does not fit/);
    assert.equal(await best.locator('canvas').count(), 6);
    assert.equal(await view.getByRole('radio', { name: 'Use kkd-f' }).isChecked(), true);
    await best.scrollIntoViewIfNeeded();
    await screenshot(page, 'datasets-5-candidates');
    await view.getByRole('button', { name: 'Import', exact: true }).click();
    await page.waitForFunction(
      (h) => (globalThis as unknown as { location: { hash: string } }).location.hash === h,
      hashOf(out),
      { timeout: 120_000 },
    );
    await waitForView(page, 'datasets');
    await view.locator('[data-stat="shape"]').waitFor();
    const frames = (await lines(path.join(demo.dataset, 'train_framenum.txt'))).map(Number);
    assert.equal(await cell(page, 'train', 'videos'), String(frames.length));
    await screenshot(page, 'datasets-6-imported');
    assert.equal(
      runPython(SAME_BITS, [
        path.join(out, 'train_features.h5'),
        path.join(demo.dataset, 'train_features.h5'),
      ]).trim(),
      'same',
    );
    assert.deepEqual(
      await lines(path.join(out, 'train_labels.txt')),
      await lines(path.join(demo.dataset, 'train_labels.txt')),
    );

    const model = path.join(dir, 'imported-model.h5');
    const trained = runGlimpse([
      'train',
      '--dataset',
      out,
      '--out',
      model,
      '--epochs',
      '2',
      '--dim',
      '16',
      '--dim-out',
      '16',
      '--maxlen',
      '16',
      '--last-n',
      '16',
      '--training-stride',
      '8',
      '--batch-size',
      '16',
      '--optimizer',
      'adam',
      '--lrate',
      '0.005',
      '--no-dropout',
      '--seed',
      '3',
    ]);
    assert.equal(trained.code, 0, trained.stderr);
    const log = await lines(path.join(dir, 'imported-model.log.jsonl'));
    assert.ok(
      log.some((l) => (JSON.parse(l) as { kind?: string }).kind === 'epoch'),
      log.slice(-2).join('\n'),
    );
    assert.deepEqual(
      errors.filter((e) => !/notes\.h5/.test(e)),
      [],
    );
  });
});
