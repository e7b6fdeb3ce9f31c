import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { BUILTIN_BACKBONE_DIR } from './backbone.ts';
import { writeBuiltinBackbone } from './builtin-backbone.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-builtin-'));
after(() => rmSync(tmp, { recursive: true, force: true }));

test('the committed built-in backbone is exactly what its generator makes, and small', async () => {
  const files = await writeBuiltinBackbone(tmp);
  assert.deepEqual(files.map((f) => path.basename(f)).sort(), [
    'glimpse-backbone.json',
    'model.json',
    'weights.bin',
  ]);
  let total = 0;
  for (const file of files) {
    const committed = readFileSync(path.join(BUILTIN_BACKBONE_DIR, path.basename(file)));
    assert.ok(
      committed.equals(readFileSync(file)),
      `${path.basename(file)} differs: run assets/backbones/make-builtin.ts`,
    );
    total += committed.length;
  }
  assert.ok(total < 1024 * 1024, `${total} bytes`);
});
