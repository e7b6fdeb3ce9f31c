import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { MenuItemConstructorOptions } from 'electron';
import type { RecentFiles } from '../engine/api.ts';
import type { AppCommand } from './bridge.ts';
import { menuTemplate } from './menu.ts';

const NO_RECENT: RecentFiles = { models: [], videos: [], datasets: [] };

function build(platform: NodeJS.Platform, options: { dev?: boolean; recent?: RecentFiles } = {}) {
  const sent: AppCommand[] = [];
  const menu = menuTemplate({
    platform,
    recent: options.recent ?? NO_RECENT,
    send: (c) => sent.push(c),
    dev: options.dev,
  });
  return { menu, sent };
}

function submenu(menu: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions[] {
  const top = menu.find((m) => m.label === label);
  assert.ok(top, `menu ${label}`);
  assert.ok(Array.isArray(top.submenu), `${label} has a submenu`);
  return top.submenu;
}

function item(items: MenuItemConstructorOptions[], label: string): MenuItemConstructorOptions {
  const found = items.find((m) => m.label === label);
  assert.ok(found, `item ${label}`);
  return found;
}

/** Clicks an item as Electron would and returns what it sent. */
function click(entry: MenuItemConstructorOptions, sent: AppCommand[]): AppCommand | undefined {
  const before = sent.length;
  (entry.click as () => void)();
  assert.equal(sent.length, before + 1, `${entry.label} sends one command`);
  return sent.at(-1);
}

describe('menu template', () => {
  it('has File, Edit, View, Evaluate, Train, Help on Linux and Windows, with an app menu first on macOS', () => {
    for (const platform of ['linux', 'win32'] as const)
      assert.deepEqual(
        build(platform).menu.map((m) => m.label ?? m.role),
        ['File', 'editMenu', 'View', 'Evaluate', 'Train', 'Help'],
      );
    assert.deepEqual(
      build('darwin').menu.map((m) => m.label ?? m.role),
      ['Glimpse', 'File', 'editMenu', 'View', 'Evaluate', 'Train', 'Help'],
    );
  });

  it('File: open video/model/dataset, export with their accelerators and commands; Quit off macOS', () => {
    const { menu, sent } = build('linux');
    const file = submenu(menu, 'File');
    const expected: Array<[string, string | undefined, AppCommand]> = [
      ['Open Video…', 'CmdOrCtrl+O', { type: 'command', name: 'open-video' }],
      ['Open Model…', 'CmdOrCtrl+Shift+O', { type: 'command', name: 'open-model' }],
      ['Open Dataset…', undefined, { type: 'command', name: 'open-dataset' }],
      ['Export…', 'CmdOrCtrl+E', { type: 'command', name: 'export' }],
    ];
    for (const [label, accelerator, command] of expected) {
      const entry = item(file, label);
      assert.equal(entry.accelerator, accelerator, label);
      assert.deepEqual(click(entry, sent), command);
    }
    assert.equal(item(file, 'Quit').role, 'quit');
    assert.equal(
      submenu(build('darwin').menu, 'File').find((m) => m.label === 'Quit'),
      undefined,
      'macOS quits from the app menu',
    );
  });

  it('Open Recent lists recent files by role and opens them; empty shows a disabled entry', () => {
    const recent = { videos: ['/data/clip.avi'], models: ['/m/a.h5', 'C:\\m\\b.npz'], datasets: [] };
    const { menu, sent } = build('linux', { recent });
    const list = item(submenu(menu, 'File'), 'Open Recent').submenu as MenuItemConstructorOptions[];
    const entries = list.filter((m) => m.type !== 'separator');
    assert.deepEqual(
      entries.map((m) => m.label),
      ['clip.avi (video)', 'a.h5 (model)', 'b.npz (model)'],
    );
    assert.deepEqual(click(entries[0], sent), { type: 'open', role: 'video', path: '/data/clip.avi' });
    assert.deepEqual(click(entries[2], sent), { type: 'open', role: 'model', path: 'C:\\m\\b.npz' });

    const empty = item(submenu(build('linux').menu, 'File'), 'Open Recent')
      .submenu as MenuItemConstructorOptions[];
    assert.equal(empty.length, 1);
    assert.equal(empty[0].enabled, false);
  });

  it('View: the five views on CmdOrCtrl+1…5 navigate to their URLs; zoom and full screen; dev tools only in dev', () => {
    const { menu, sent } = build('linux');
    const view = submenu(menu, 'View');
    const views = ['Inspect', 'Compare', 'Evaluate', 'Train', 'Datasets'];
    views.forEach((label, i) => {
      const entry = item(view, label);
      assert.equal(entry.accelerator, `CmdOrCtrl+${i + 1}`);
      assert.deepEqual(click(entry, sent), { type: 'navigate', hash: `#/${label.toLowerCase()}` });
    });
    const roles = view.map((m) => m.role).filter(Boolean);
    assert.deepEqual(roles, ['zoomIn', 'zoomOut', 'resetZoom', 'togglefullscreen']);
    const devRoles = submenu(build('linux', { dev: true }).menu, 'View').map((m) => m.role);
    assert.ok(devRoles.includes('toggleDevTools'));
  });

  it('Evaluate and Train route to their views; Help sends shortcuts and about', () => {
    const { menu, sent } = build('linux');
    assert.deepEqual(click(item(submenu(menu, 'Evaluate'), 'Run Full-Dataset Evaluation…'), sent), {
      type: 'navigate',
      hash: '#/evaluate',
    });
    assert.deepEqual(click(item(submenu(menu, 'Train'), 'New Run…'), sent), {
      type: 'navigate',
      hash: '#/train',
    });
    const help = submenu(menu, 'Help');
    const shortcuts = item(help, 'Keyboard Shortcuts');
    assert.equal(shortcuts.accelerator, '?');
    // Shown, not captured: '?' must still type into text fields.
    assert.equal(shortcuts.registerAccelerator, false);
    assert.deepEqual(click(shortcuts, sent), { type: 'command', name: 'shortcuts' });
    assert.deepEqual(click(item(help, 'About Glimpse'), sent), { type: 'command', name: 'about' });
  });
});
