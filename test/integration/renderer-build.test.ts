// The renderer is built only when its dist is missing or older than a source file, with Vite's real build,
// into place atomically; a failing build leaves the previous dist as it was.
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readdir, readFile, rm, utimes, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ensureRendererBuilt, rendererBuildReason } from '../../main/server/renderer-build.ts';

describe('renderer build when needed', () => {
  let root: string;
  before(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), 'glimpse-renderer-'));
    await mkdir(path.join(root, 'src'));
    await writeFile(
      path.join(root, 'vite.config.ts'),
      "export default { base: './', logLevel: 'silent' };\n",
    );
    await writeFile(
      path.join(root, 'index.html'),
      '<!doctype html><html><head><title>t</title></head><body><script type="module" src="./src/main.js"></script></body></html>\n',
    );
    await writeFile(path.join(root, 'src', 'main.js'), "document.title = 'one';\n");
  });
  after(() => rm(root, { recursive: true, force: true }));

  const builtScript = async () => {
    const assets = await readdir(path.join(root, 'dist', 'assets'));
    return readFile(
      path.join(
        root,
        'dist',
        'assets',
        assets.find((a) => a.endsWith('.js'))!,
      ),
      'utf8',
    );
  };

  it('builds when dist is missing, then not again until a source changes', async () => {
    assert.equal(await rendererBuildReason(root), 'renderer/dist/index.html is missing');
    const reasons: string[] = [];
    const dist = await ensureRendererBuilt({ root, onBuild: (r) => reasons.push(r) });
    assert.equal(dist, path.join(root, 'dist'));
    assert.deepEqual(reasons, ['renderer/dist/index.html is missing']);
    assert.match(await readFile(path.join(dist, 'index.html'), 'utf8'), /src="\.\/assets\/[^"]+\.js"/);
    assert.match(await builtScript(), /one/);

    assert.equal(await rendererBuildReason(root), null);
    await ensureRendererBuilt({ root, onBuild: (r) => reasons.push(r) });
    assert.equal(reasons.length, 1, 'up to date: no second build');

    await writeFile(path.join(root, 'src', 'main.js'), "document.title = 'two';\n");
    const later = new Date(Date.now() + 5000);
    await utimes(path.join(root, 'src', 'main.js'), later, later);
    assert.equal(await rendererBuildReason(root), 'renderer sources changed since the last build');
    await ensureRendererBuilt({ root, onBuild: (r) => reasons.push(r) });
    assert.equal(reasons.length, 2);
    assert.match(await builtScript(), /two/);
    assert.deepEqual(
      (await readdir(root)).filter((n) => n.startsWith('dist')),
      ['dist'],
      'no staging folder left behind',
    );
  });

  it('a failing build is a one-line error and leaves the previous dist in place', async () => {
    const before = await readFile(path.join(root, 'dist', 'index.html'), 'utf8');
    await writeFile(path.join(root, 'src', 'main.js'), 'import nothing from "./does-not-exist.js";\n');
    const later = new Date(Date.now() + 10_000);
    await utimes(path.join(root, 'src', 'main.js'), later, later);
    await assert.rejects(ensureRendererBuilt({ root }), (err: Error) => {
      assert.match(err.message, /^building the renderer failed: /);
      assert.doesNotMatch(err.message, /\n/);
      return true;
    });
    assert.equal(await readFile(path.join(root, 'dist', 'index.html'), 'utf8'), before);
    assert.deepEqual(
      (await readdir(root)).filter((n) => n.startsWith('dist')),
      ['dist'],
    );
  });

  it('without sources, an existing dist is used as it is, and neither is a clear error', async () => {
    const packaged = await mkdtemp(path.join(os.tmpdir(), 'glimpse-packaged-'));
    try {
      await assert.rejects(
        ensureRendererBuilt({ root: packaged }),
        /neither a built renderer .* nor its sources/,
      );
      await mkdir(path.join(packaged, 'dist'));
      await writeFile(path.join(packaged, 'dist', 'index.html'), '<!doctype html>');
      assert.equal(await ensureRendererBuilt({ root: packaged }), path.join(packaged, 'dist'));
    } finally {
      await rm(packaged, { recursive: true, force: true });
    }
  });
});
