import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileResponse } from './file-response.ts';

describe('Electron protocol file responses', () => {
  let dir: string;
  let file: string;
  const bytes = randomBytes(5000);
  before(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), 'glimpse-fileresponse-'));
    file = path.join(dir, 'v.mp4');
    await writeFile(file, bytes);
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const get = (range?: string, method = 'GET') =>
    fileResponse(
      file,
      'video/mp4',
      { method, headers: new Headers(range ? { range } : {}) },
      { 'X-Extra': '1' },
    );

  it('answers the whole file, a byte range, HEAD and an unsatisfiable range', async () => {
    const full = await get();
    assert.equal(full.status, 200);
    assert.equal(full.headers.get('content-type'), 'video/mp4');
    assert.equal(full.headers.get('x-extra'), '1');
    assert.deepEqual(Buffer.from(await full.arrayBuffer()), bytes);

    const part = await get('bytes=10-19');
    assert.equal(part.status, 206);
    assert.equal(part.headers.get('content-range'), 'bytes 10-19/5000');
    assert.deepEqual(Buffer.from(await part.arrayBuffer()), bytes.subarray(10, 20));

    const head = await get('bytes=0-', 'HEAD');
    assert.equal(head.status, 206);
    assert.equal(head.headers.get('content-length'), '5000');
    assert.equal((await head.arrayBuffer()).byteLength, 0);

    const beyond = await get('bytes=5000-');
    assert.equal(beyond.status, 416);
    assert.equal(beyond.headers.get('content-range'), 'bytes */5000');
  });
});
