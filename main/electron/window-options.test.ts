import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { contentSecurityPolicy } from '../server/csp.ts';
import { APP_ENTRY, electronCsp, isAppUrl, mediaIdOf, windowOptions } from './window-options.ts';

describe('Electron window options and CSP', () => {
  it('sandboxes the renderer: context isolation, no Node, web security, no webview, the preload', () => {
    const prefs = windowOptions({ preload: '/app/dist/electron/preload.cjs' }).webPreferences;
    assert.ok(prefs);
    assert.equal(prefs.contextIsolation, true);
    assert.equal(prefs.sandbox, true);
    assert.equal(prefs.nodeIntegration, false);
    assert.equal(prefs.nodeIntegrationInWorker, false);
    assert.equal(prefs.nodeIntegrationInSubFrames, false);
    assert.equal(prefs.webSecurity, true);
    assert.equal(prefs.allowRunningInsecureContent, false);
    assert.equal(prefs.webviewTag, false);
    assert.equal(prefs.navigateOnDragDrop, false);
    assert.equal(prefs.preload, '/app/dist/electron/preload.cjs');
  });

  it('sends a strict CSP: own scripts only, videos from glimpse-media:, no plugins, frames or base tricks', () => {
    assert.equal(
      electronCsp(),
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' blob: data: glimpse-media:; " +
        "media-src 'self' blob: glimpse-media:; connect-src 'self'; object-src 'none'; base-uri 'none'; " +
        "frame-ancestors 'none'",
    );
    assert.doesNotMatch(electronCsp(), /unsafe-eval|script-src[^;]*unsafe-inline/);
    assert.match(
      contentSecurityPolicy({ connect: ['ws://127.0.0.1:5'] }),
      /connect-src 'self' ws:\/\/127\.0\.0\.1:5;/,
    );
  });

  it('treats only app://glimpse pages as the app', () => {
    assert.equal(APP_ENTRY, 'app://glimpse/index.html');
    assert.ok(isAppUrl(APP_ENTRY));
    assert.ok(isAppUrl('app://glimpse/index.html#/inspect?model=%2Fm.h5'));
    for (const url of [
      'https://glimpse/index.html',
      'app://evil/index.html',
      'file:///index.html',
      'not a url',
      '',
    ])
      assert.equal(isAppUrl(url), false, url);
  });

  it('reads the engine id from glimpse-media://media/ID only', () => {
    assert.equal(mediaIdOf('glimpse-media://media/abc123'), 'abc123');
    assert.equal(mediaIdOf('glimpse-media://media/a%20b'), 'a b');
    for (const url of [
      'glimpse-media://other/abc',
      'glimpse-media://media/',
      'glimpse-media://media/a/b',
      'glimpse-media://media/a%2Fb',
      'glimpse-media://media/%E0%A4%A',
      'https://media/abc',
      'nonsense',
    ])
      assert.equal(mediaIdOf(url), null, url);
  });
});
