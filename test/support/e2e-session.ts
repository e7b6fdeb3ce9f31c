/**
 * One end-to-end session: `glimpse serve` on the workspace every e2e file of this commit shares, an API
 * client beside the UI, the demo made ready (trained once, on the first file that needs it), chromium.
 */
import type { Browser, Page } from 'playwright-core';
import type { Colormap, DemoOutcome, InspectRequest, InspectResult } from '../../main/engine/api.ts';
import {
  ApiClient,
  ensureDemoReady,
  launchChromium,
  type LaunchOptions,
  sharedWorkspace,
  startServe,
  type ServeHandle,
} from './browser.ts';

export type ReadyDemo = Extract<DemoOutcome, { status: 'ready' }>;

export interface E2eSession {
  serve: ServeHandle;
  api: ApiClient;
  browser: Browser;
  workspace: string;
  demo: ReadyDemo;
  close(): Promise<void>;
}

export async function openE2eSession(launch: LaunchOptions = {}): Promise<E2eSession> {
  const workspace = sharedWorkspace();
  const serve = await startServe({ workspace });
  let api: ApiClient | null = null;
  let browser: Browser | null = null;
  try {
    api = await ApiClient.connect(serve);
    const demo = await ensureDemoReady(api);
    browser = await launchChromium(launch);
    const session: E2eSession = {
      serve,
      api,
      browser,
      workspace,
      demo,
      close: async () => {
        await browser?.close();
        api?.close();
        await serve.close();
      },
    };
    return session;
  } catch (err) {
    await browser?.close();
    api?.close();
    await serve.close();
    throw new Error(
      `${err instanceof Error ? err.message : String(err)}\nserve log:\n${serve.log().slice(-3000)}`,
    );
  }
}

export interface InspectLink {
  model: string;
  video?: string;
  dataset?: { dir: string; split: string; index: number };
  frame?: number;
  colormap?: Colormap;
  opacity?: number;
  smooth?: boolean;
}

/** The hash DESIGN.md fixes: `#/inspect?model=M&video=FILE[&frame=N][&colormap=C][&opacity=X][&smooth=0|1]`. */
export function inspectHash(link: InspectLink): string {
  const pairs: [string, string][] = [['model', link.model]];
  if (link.video) pairs.push(['video', link.video]);
  if (link.dataset) {
    pairs.push(
      ['dataset', link.dataset.dir],
      ['split', link.dataset.split],
      ['index', String(link.dataset.index)],
    );
  }
  if (link.frame !== undefined) pairs.push(['frame', String(link.frame)]);
  if (link.colormap) pairs.push(['colormap', link.colormap]);
  if (link.opacity !== undefined) pairs.push(['opacity', String(link.opacity)]);
  if (link.smooth !== undefined) pairs.push(['smooth', link.smooth ? '1' : '0']);
  return `#/inspect?${pairs.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&')}`;
}

/** A full page load of the deep link, the token in the query as in the URL serve prints. */
export function deepLinkUrl(serve: ServeHandle, link: InspectLink): string {
  return `${serve.origin}/?token=${encodeURIComponent(serve.token)}${inspectHash(link)}`;
}

/** The demo's video as Inspect opens it by default (a video of the demo's feature dataset). */
export function demoLink(demo: ReadyDemo, extra: Omit<InspectLink, 'model'> = {}): InspectLink {
  return {
    model: demo.model,
    dataset: { dir: demo.dataset, split: demo.split, index: demo.index },
    ...extra,
  };
}

/** What the engine answers for the same inspection (cached once the UI has run it). */
export async function inspectViaApi(api: ApiClient, request: InspectRequest): Promise<InspectResult> {
  const outcome = await api.call('inspect', request);
  if (outcome.status === 'ready') return outcome.result;
  const job = await api.waitForJob(outcome.job.id);
  if (job.state !== 'done') throw new Error(`inspect job ${job.state}: ${job.error?.message ?? ''}`);
  const again = await api.call('inspect', request);
  if (again.status !== 'ready') throw new Error('inspect job done but inspect still answers with a job');
  return again.result;
}

/** A fresh page with console errors collected (a test can assert there were none). */
export async function newPage(browser: Browser): Promise<{ page: Page; errors: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1440, height: 900 } });
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error') errors.push(msg.text());
  });
  return { page, errors };
}
