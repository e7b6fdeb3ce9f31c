/**
 * The one window's options and the rules for what it may load: pure, so the security flags are
 * unit-tested without the Electron binary. Types only from 'electron'.
 */
import type { BrowserWindowConstructorOptions } from 'electron';
import { contentSecurityPolicy } from '../server/csp.ts';

/** The renderer is served from this privileged scheme (protocol.handle), never from file:// or the web. */
export const APP_SCHEME = 'app';
export const APP_HOST = 'glimpse';
export const APP_ENTRY = `${APP_SCHEME}://${APP_HOST}/index.html`;
/** Files the engine has registered (playback proxies, exports): glimpse-media://media/ID. */
export const MEDIA_SCHEME = 'glimpse-media';

export function windowOptions({ preload }: { preload: string }): BrowserWindowConstructorOptions {
  return {
    width: 1440,
    height: 900,
    minWidth: 960,
    minHeight: 600,
    title: 'Glimpse',
    backgroundColor: '#111418',
    // Shown once the first paint is ready, so no white flash.
    show: false,
    webPreferences: {
      preload,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInWorker: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
      navigateOnDragDrop: false,
      spellcheck: false,
    },
  };
}

/** The Electron renderer's CSP: as browser mode's, with the media scheme instead of a WebSocket. */
export function electronCsp(): string {
  return contentSecurityPolicy({ media: [`${MEDIA_SCHEME}:`], img: [`${MEDIA_SCHEME}:`] });
}

/** The engine's id in a glimpse-media://media/ID URL, or null for any other URL. */
export function mediaIdOf(url: string): string | null {
  try {
    const parsed = new URL(url);
    if (parsed.protocol !== `${MEDIA_SCHEME}:` || parsed.host !== 'media') return null;
    const id = decodeURIComponent(parsed.pathname.slice(1));
    return id === '' || id.includes('/') ? null : id;
  } catch {
    return null;
  }
}

/** True only for the app's own pages: the renderer is a single page, so any navigation away is refused. */
export function isAppUrl(url: string): boolean {
  try {
    const parsed = new URL(url);
    return parsed.protocol === `${APP_SCHEME}:` && parsed.host === APP_HOST;
  } catch {
    return false;
  }
}
