import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { browserOpener } from './open-browser.ts';

describe('system browser opener', () => {
  it('uses xdg-open on Linux, open on macOS, cmd start on Windows', () => {
    const url = 'http://127.0.0.1:5/?token=abc';
    assert.deepEqual(browserOpener('linux', url), { command: 'xdg-open', args: [url] });
    assert.deepEqual(browserOpener('darwin', url), { command: 'open', args: [url] });
    assert.deepEqual(browserOpener('win32', url), {
      command: 'cmd',
      args: ['/c', 'start', '""', `"${url}"`],
    });
  });
});
