/**
 * Debian's chromium driven by playwright-core (a devDependency: import this module dynamically), as the
 * UI benchmark and the end-to-end tests launch it: no GPU, no network chatter, no first-run UI;
 * headless, or headed on an X display.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.GLIMPSE_CHROMIUM ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
];

/** True where the browser can run (Debian's chromium, or $GLIMPSE_CHROMIUM, is installed). */
export const HAVE_CHROMIUM = existsSync(CHROMIUM);

export interface LaunchOptions {
  /** X display (":99") for a headed window; headless when absent. */
  display?: string;
  /** More chromium flags. */
  args?: string[];
}

export async function launchChromium(options: LaunchOptions = {}): Promise<Browser> {
  const headed = options.display !== undefined;
  const window = headed ? ['--window-position=0,0', '--window-size=1600,1000'] : [];
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: !headed,
    args: [...CHROMIUM_FLAGS, ...window, ...(options.args ?? [])],
    env: headed ? { ...process.env, DISPLAY: options.display } : process.env,
    timeout: 60_000,
  });
}
