import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import { GlimpseError } from './errors.ts';
import { defaultWorkspaceDir, Workspace } from './workspace.ts';

const root = mkdtempSync(path.join(tmpdir(), 'glimpse-workspace-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('recent files and the job history survive a restart', async () => {
  const dir = path.join(root, 'a');
  const ws = await Workspace.open(dir);
  await ws.addRecent('models', '/m/one.h5');
  await ws.addRecent('models', '/m/two.h5');
  await ws.addRecent('models', '/m/one.h5');
  await ws.saveJobs([]);
  const again = await Workspace.open(dir);
  assert.deepEqual(again.recent().models, ['/m/one.h5', '/m/two.h5']);
  assert.deepEqual(again.jobs(), []);
  assert.equal(again.cacheDir('inspect'), path.join(dir, 'cache', 'inspect'));
});

test('an unreadable state file is kept aside, not overwritten', async () => {
  const dir = path.join(root, 'b');
  const ws = await Workspace.open(dir);
  await ws.addRecent('videos', '/v.mp4');
  writeFileSync(path.join(dir, 'state.json'), '{ cut short');
  const again = await Workspace.open(dir);
  assert.deepEqual(again.recent().videos, []);
  const kept = readdirSync(dir).find((n) => n.startsWith('state.json.unreadable-'));
  assert.ok(kept, readdirSync(dir).join(', '));
  assert.equal(readFileSync(path.join(dir, kept), 'utf8'), '{ cut short');
});

test('a workspace that cannot be made is one clear error naming it', async () => {
  const file = path.join(root, 'a-file');
  writeFileSync(file, 'x');
  await assert.rejects(Workspace.open(path.join(file, 'ws')), (err: unknown) => {
    assert.ok(err instanceof GlimpseError);
    assert.equal(err.code, 'bad-file');
    assert.match(err.message, /a-file\/ws: cannot use this workspace folder \(ENOTDIR/);
    return true;
  });
});

test('a save that fails names the file and leaves the previous version', async () => {
  const dir = path.join(root, 'c');
  const ws = await Workspace.open(dir);
  await ws.addRecent('datasets', '/d1');
  // A folder where the temp file would go makes the atomic write fail, as a full disk would.
  const blocker = path.join(dir, `state.json.tmp-${process.pid}`);
  mkdirSync(blocker);
  await assert.rejects(ws.addRecent('datasets', '/d2'), /state\.json: cannot save the workspace/);
  rmSync(blocker, { recursive: true });
  assert.deepEqual((await Workspace.open(dir)).recent().datasets, ['/d1']);
});

test('the default folder follows the platform convention', () => {
  const dir = defaultWorkspaceDir();
  if (process.platform === 'linux')
    assert.equal(
      dir,
      path.join(process.env.XDG_DATA_HOME || path.join(process.env.HOME ?? '', '.local', 'share'), 'glimpse'),
    );
  else assert.match(dir, /Glimpse$/);
});
