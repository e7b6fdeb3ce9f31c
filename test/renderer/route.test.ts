import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inspectHash, parseRoute, viewHash } from '../../renderer/src/lib/route.ts';

test('an Inspect video link round-trips with its overlay settings; defaults stay out of the hash', () => {
  const hash =
    '#/inspect?model=%2Fm%20x%2Fmodel.h5&video=%2Fv%2Fa%2Bb.avi&frame=12&colormap=jet&opacity=0.35&smooth=1';
  const route = parseRoute(hash);
  assert.deepEqual(route, {
    view: 'inspect',
    model: '/m x/model.h5',
    source: { kind: 'video', path: '/v/a+b.avi' },
    frame: 12,
    colormap: 'jet',
    opacity: 0.35,
    smooth: true,
  });
  assert.ok(route.view === 'inspect');
  assert.equal(inspectHash(route), hash);
  assert.equal(
    inspectHash({ ...route, frame: null, colormap: 'viridis', opacity: 0.6, smooth: false }),
    '#/inspect?model=%2Fm%20x%2Fmodel.h5&video=%2Fv%2Fa%2Bb.avi',
  );
});

test('the dataset form needs dir, split and a whole index', () => {
  const ok = parseRoute('#/inspect?model=%2Fm.h5&dataset=%2Fd&split=test&index=3&frame=0');
  assert.ok(ok.view === 'inspect');
  assert.deepEqual(ok.source, { kind: 'dataset', dir: '/d', split: 'test', index: 3 });
  assert.equal(ok.frame, 0);
  assert.equal(inspectHash(ok), '#/inspect?model=%2Fm.h5&dataset=%2Fd&split=test&index=3&frame=0');
  const bad = parseRoute('#/inspect?model=%2Fm.h5&dataset=%2Fd&split=test&index=-1');
  assert.ok(bad.view === 'inspect');
  assert.equal(bad.source, null);
});

test('malformed values fall back to defaults instead of failing', () => {
  const r = parseRoute('#/inspect?model=%2Fm.h5&frame=1.5&colormap=rainbow&opacity=3&smooth=maybe');
  assert.ok(r.view === 'inspect');
  assert.equal(r.frame, null);
  assert.equal(r.colormap, 'viridis');
  assert.equal(r.opacity, 0.6);
  assert.equal(r.smooth, false);
});

test('other views keep their parameters; no hash or an unknown view is home', () => {
  assert.deepEqual(parseRoute('#/train?run=abc'), { view: 'train', params: { run: 'abc' } });
  assert.deepEqual(parseRoute('#/datasets'), { view: 'datasets', params: {} });
  assert.deepEqual(parseRoute(''), { view: 'home' });
  assert.deepEqual(parseRoute('#/nowhere'), { view: 'home' });
  assert.equal(viewHash('evaluate', { model: '/a b.h5' }), '#/evaluate?model=%2Fa%20b.h5');
});
