import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { API_METHODS } from '../engine/schemas.ts';
import {
  callShapeError,
  isAppCommand,
  isServerMessage,
  parseHostReply,
  parseHostRequest,
} from './messages.ts';

describe('Electron process messages', () => {
  it('preload: every API method passes the shape check, unknown methods and non-array arguments do not', () => {
    for (const method of API_METHODS) assert.equal(callShapeError(method, []), null, method);
    for (const method of ['subscribe', 'constructor', '__proto__', 'toString', 42, null])
      assert.equal(callShapeError(method, [])?.code, 'bad-request', String(method));
    assert.match(callShapeError('openModel', '/x.h5')?.message ?? '', /arguments must be an array/);
  });

  it('preload: accepts only well-formed answers from the port', () => {
    assert.ok(isServerMessage({ type: 'result', id: 1, ok: true, value: null }));
    assert.ok(
      isServerMessage({
        type: 'result',
        id: 1,
        ok: false,
        error: { code: 'bad-file', message: 'x', file: '/f' },
      }),
    );
    assert.ok(isServerMessage({ type: 'event', event: { type: 'job', job: {} } }));
    for (const bad of [
      null,
      'x',
      { type: 'result', id: '1', ok: true, value: 1 },
      { type: 'result', id: 1, ok: true },
      { type: 'result', id: 1, ok: false, error: { code: 'nope', message: 'x' } },
      { type: 'result', id: 1, ok: false, error: { code: 'internal' } },
      { type: 'event' },
    ])
      assert.equal(isServerMessage(bad), false, JSON.stringify(bad));
  });

  it('preload: passes on only known app commands', () => {
    assert.ok(isAppCommand({ type: 'navigate', hash: '#/inspect?model=%2Fa.h5' }));
    assert.ok(isAppCommand({ type: 'command', name: 'shortcuts' }));
    assert.ok(isAppCommand({ type: 'open', role: 'dataset', path: '/data/ucf11' }));
    for (const bad of [
      { type: 'navigate', hash: 'https://evil.example' },
      { type: 'command', name: 'rm-rf' },
      { type: 'open', role: 'script', path: '/x' },
      { type: 'open', role: 'video', path: '' },
      { type: 'eval', code: '1' },
      [],
    ])
      assert.equal(isAppCommand(bad), false, JSON.stringify(bad));
  });

  it('main ⇄ engine host: requests and replies are parsed, anything else is dropped', () => {
    assert.deepEqual(parseHostRequest({ type: 'connect' }), { type: 'connect' });
    assert.deepEqual(parseHostRequest({ type: 'resolve-media', requestId: 3, id: 'abc' }), {
      type: 'resolve-media',
      requestId: 3,
      id: 'abc',
    });
    assert.deepEqual(parseHostRequest({ type: 'recent', requestId: 4 }), { type: 'recent', requestId: 4 });
    assert.equal(parseHostRequest({ type: 'resolve-media', requestId: 3, id: 7 }), null);
    assert.equal(parseHostRequest({ type: 'recent', requestId: 1.5 }), null);
    assert.equal(parseHostRequest({ type: 'shutdown-everything' }), null);

    assert.deepEqual(parseHostReply({ type: 'media', requestId: 3, media: null }), {
      type: 'media',
      requestId: 3,
      media: null,
    });
    assert.deepEqual(
      parseHostReply({ type: 'recent', requestId: 4, recent: { models: ['/a.h5', 5], videos: 'x' } }),
      { type: 'recent', requestId: 4, recent: { models: ['/a.h5'], videos: [], datasets: [] } },
    );
    assert.equal(parseHostReply({ type: 'media', requestId: 3, media: { path: 1 } }), null);
    assert.deepEqual(parseHostReply({ type: 'failed', message: 'no ffmpeg' }), {
      type: 'failed',
      message: 'no ffmpeg',
    });
  });
});
