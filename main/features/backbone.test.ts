import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chooseBackend } from '../../model/backend.ts';
import { writeGraphModel, writeLayersModel } from '../../test/support/tfjs-models.ts';
import { backboneCacheFolder, loadBackbone } from './backbone.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-backbone-'));
const graphDir = path.join(tmp, 'graph');
const layersDir = path.join(tmp, 'layers');

before(async () => {
  await chooseBackend(process.env.GLIMPSE_BACKEND ?? 'wasm');
  await writeGraphModel(graphDir);
  await writeLayersModel(layersDir);
});
after(() => rmSync(tmp, { recursive: true, force: true }));

/** A 112×112 frame of mid grey with vertical stripes (period 8) in one 16-pixel cell. */
function stripedCell(row: number, col: number): Uint8Array {
  const S = 112;
  const rgb = new Uint8Array(S * S * 3).fill(128);
  for (let y = row * 16; y < row * 16 + 16; y++) {
    for (let x = col * 16; x < col * 16 + 16; x++) {
      const v = Math.floor(x / 4) % 2 ? 250 : 10;
      rgb.fill(v, (y * S + x) * 3, (y * S + x) * 3 + 3);
    }
  }
  return rgb;
}

test('the built-in backbone: 112×112 in, 7×7×D out, location-major rows with l = row·K + col', async () => {
  const bb = await loadBackbone('builtin');
  try {
    assert.equal(bb.inputSize, 112);
    assert.equal(bb.K, 7);
    assert.equal(bb.L, 49);
    assert.ok(bb.D >= 16 && bb.D <= 64, `D = ${bb.D}`);
    assert.equal(bb.source.kind, 'builtin');
    // Row 1, column 5: location 12. The transposed guess (5·7 + 1 = 36) must stay quiet.
    const out = await bb.infer(stripedCell(1, 5), 1);
    assert.equal(out.length, 49 * bb.D);
    const energy = (l: number) => out.subarray(l * bb.D, (l + 1) * bb.D).reduce((a, b) => a + b, 0);
    const strongest = Array.from({ length: 49 }, (_, l) => l).sort((a, b) => energy(b) - energy(a))[0];
    assert.equal(strongest, 1 * 7 + 5);
    assert.ok(energy(12) > 20 * energy(36), `${energy(12)} vs ${energy(36)}`);
    // Deterministic, and a batch gives the frames' rows one after another.
    const two = new Uint8Array(2 * 112 * 112 * 3);
    two.set(stripedCell(0, 0));
    two.set(stripedCell(1, 5), 112 * 112 * 3);
    const batch = await bb.infer(two, 2);
    assert.deepEqual(batch.subarray(49 * bb.D), out);
  } finally {
    bb.dispose();
  }
});

test('a graph model from a folder, cut at a named node', async () => {
  const bb = await loadBackbone(graphDir, { node: 'relu', mean: 0, scale: 1 / 255 });
  try {
    assert.equal(bb.source.format, 'graph-model');
    assert.equal(bb.source.kind, 'folder');
    assert.deepEqual([bb.inputSize, bb.K, bb.D], [16, 4, 5]);
    assert.equal(bb.id, `${graphDir}/relu`);
    const out = await bb.infer(new Uint8Array(16 * 16 * 3).fill(255), 1);
    assert.equal(out.length, 16 * 5);
    assert.ok(out.every((v) => v >= 0));
  } finally {
    bb.dispose();
  }
});

test('a node whose output is not a K×K×D map is refused, naming the backbone and node', async () => {
  await assert.rejects(loadBackbone(graphDir, { node: 'pooled' }), (err: Error) => {
    assert.match(err.message, /^backbone .*graph: node 'pooled' gives shape \[1, 5\].*not a K×K×D map/);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  // Rank 4 but not square (6×3), and rank 2.
  await assert.rejects(loadBackbone(layersDir, { node: 'wide' }), /node 'wide' gives shape \[1, 6, 3, 6\]/);
  await assert.rejects(loadBackbone(layersDir), /node 'flat' gives shape \[1, 108\]/);
  await assert.rejects(
    loadBackbone(layersDir, { node: 'nope' }),
    /backbone .*layers: no layer 'nope' \(has conv, wide, flat\)/,
  );
});

test('a layers model from a folder, cut at a layer; input size fixed by the model', async () => {
  const bb = await loadBackbone(path.join(layersDir, 'model.json'), { node: 'conv' });
  try {
    assert.equal(bb.source.format, 'layers-model');
    assert.deepEqual([bb.inputSize, bb.K, bb.D], [24, 6, 6]);
    assert.equal((await bb.infer(new Uint8Array(24 * 24 * 3), 1)).length, 36 * 6);
  } finally {
    bb.dispose();
  }
  await assert.rejects(
    loadBackbone(layersDir, { node: 'conv', inputSize: 32 }),
    /takes 24×24 input, not 32×32/,
  );
});

test('a broken model.json or weight shard: one line naming the file', async () => {
  const broken = path.join(tmp, 'broken');
  await writeLayersModel(broken);
  const modelJson = path.join(broken, 'model.json');
  const good = readFileSync(modelJson, 'utf8');

  writeFileSync(modelJson, good.slice(0, 200));
  await assert.rejects(loadBackbone(broken), (err: Error) => {
    assert.ok(err.message.startsWith(`${modelJson}: not valid JSON`), err.message);
    assert.ok(!err.message.includes('\n'));
    return true;
  });
  writeFileSync(modelJson, JSON.stringify({ hello: 'world' }));
  await assert.rejects(loadBackbone(broken), {
    message: `${modelJson}: not a TensorFlow.js model.json (no 'modelTopology')`,
  });

  writeFileSync(modelJson, good);
  const shard = path.join(broken, 'weights.bin');
  writeFileSync(shard, readFileSync(shard).subarray(0, 100));
  await assert.rejects(loadBackbone(broken), (err: Error) =>
    err.message.startsWith(`${modelJson}: weight files hold 100 bytes but its manifest describes `),
  );
  rmSync(shard);
  await assert.rejects(loadBackbone(broken), (err: Error) =>
    err.message.startsWith(`${shard}: weight file listed in`),
  );

  await assert.rejects(loadBackbone(path.join(tmp, 'nowhere')), /backbone '.*nowhere': no such folder/);
});

test('a URL is downloaded once into the cache, then loaded from disk', async () => {
  let requests = 0;
  const server = createServer((req, res) => {
    requests++;
    const file = path.join(layersDir, path.basename(req.url ?? ''));
    readFile(file).then(
      (data) => res.end(data),
      () => {
        res.statusCode = 404;
        res.end();
      },
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/models/model.json`;
  const cacheDir = path.join(tmp, 'cache');
  try {
    const first = await loadBackbone(url, { node: 'conv', cacheDir });
    first.dispose();
    assert.equal(requests, 2, 'model.json and one shard');
    assert.equal(first.source.kind, 'url');
    assert.equal(first.source.folder, backboneCacheFolder(url, cacheDir));
    const again = await loadBackbone(url, { node: 'conv', cacheDir });
    again.dispose();
    assert.equal(requests, 2, 'no download the second time');
    assert.equal(again.source.weightsSha256, first.source.weightsSha256);
    await assert.rejects(
      loadBackbone(`http://127.0.0.1:${port}/missing/nothing.json`, { cacheDir }),
      /nothing\.json: download failed \(HTTP 404/,
    );
  } finally {
    server.close();
  }
});
