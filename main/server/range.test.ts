import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseRange, rangeResponseHead } from './range.ts';

describe('HTTP byte ranges', () => {
  it('parses single ranges: closed, open, suffix, clamped to the file', () => {
    assert.deepEqual(parseRange('bytes=0-99', 1000), { kind: 'partial', start: 0, end: 99 });
    assert.deepEqual(parseRange('bytes=900-', 1000), { kind: 'partial', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-100', 1000), { kind: 'partial', start: 900, end: 999 });
    assert.deepEqual(parseRange('bytes=-5000', 1000), { kind: 'partial', start: 0, end: 999 });
    assert.deepEqual(parseRange('bytes=990-5000', 1000), { kind: 'partial', start: 990, end: 999 });
  });

  it('answers unsatisfiable ranges with 416, and ignores what it does not understand (whole file)', () => {
    assert.deepEqual(parseRange('bytes=1000-', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=-0', 1000), { kind: 'unsatisfiable' });
    assert.deepEqual(parseRange('bytes=0-', 0), { kind: 'unsatisfiable' });
    for (const header of [undefined, '', 'bytes=0-1,5-6', 'items=0-5', 'bytes=5-2', 'bytes=-', 'bytes=abc'])
      assert.deepEqual(parseRange(header, 1000), { kind: 'full' }, String(header));
  });

  it('gives the status and headers for each answer', () => {
    assert.deepEqual(rangeResponseHead({ kind: 'partial', start: 10, end: 19 }, 100), {
      status: 206,
      headers: { 'Accept-Ranges': 'bytes', 'Content-Range': 'bytes 10-19/100', 'Content-Length': '10' },
    });
    assert.deepEqual(rangeResponseHead({ kind: 'unsatisfiable' }, 100), {
      status: 416,
      headers: { 'Accept-Ranges': 'bytes', 'Content-Range': 'bytes */100', 'Content-Length': '0' },
    });
    assert.deepEqual(rangeResponseHead({ kind: 'full' }, 100), {
      status: 200,
      headers: { 'Accept-Ranges': 'bytes', 'Content-Length': '100' },
    });
  });
});
