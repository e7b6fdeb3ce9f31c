/**
 * The application menu as data: `menuTemplate` is pure (no Electron at run time), so which item sends
 * which app command, and with which accelerator, is unit-tested under Node. The main process routes what
 * `send` receives: open-* commands show a native dialog and become `open` commands, the rest go to the
 * renderer unchanged.
 */
import type { MenuItemConstructorOptions } from 'electron';
import type { RecentFiles } from '../engine/api.ts';
import type { AppCommand, OpenRole } from './bridge.ts';

export interface MenuInput {
  platform: NodeJS.Platform;
  recent: RecentFiles;
  send: (command: AppCommand) => void;
  /** Development builds get the developer tools. */
  dev?: boolean;
}

/** The views, in the order of their ⌘/Ctrl+1…5 shortcuts. */
export const VIEWS = [
  { label: 'Inspect', hash: '#/inspect' },
  { label: 'Compare', hash: '#/compare' },
  { label: 'Evaluate', hash: '#/evaluate' },
  { label: 'Train', hash: '#/train' },
  { label: 'Datasets', hash: '#/datasets' },
] as const;

const RECENT_LIMIT = 10;

function basename(path: string): string {
  return path.split(/[\\/]/).filter(Boolean).pop() ?? path;
}

function recentItems(recent: RecentFiles, send: MenuInput['send']): MenuItemConstructorOptions[] {
  const groups: Array<[OpenRole, string[]]> = [
    ['video', recent.videos],
    ['model', recent.models],
    ['dataset', recent.datasets],
  ];
  const items: MenuItemConstructorOptions[] = [];
  for (const [role, paths] of groups) {
    if (paths.length === 0) continue;
    if (items.length > 0) items.push({ type: 'separator' });
    for (const path of paths.slice(0, RECENT_LIMIT))
      items.push({
        label: `${basename(path)} (${role})`,
        toolTip: path,
        click: () => send({ type: 'open', role, path }),
      });
  }
  return items.length > 0 ? items : [{ label: 'No Recent Files', enabled: false }];
}

export function menuTemplate({
  platform,
  recent,
  send,
  dev = false,
}: MenuInput): MenuItemConstructorOptions[] {
  const mac = platform === 'darwin';
  const command = (name: Extract<AppCommand, { type: 'command' }>['name']) => () =>
    send({ type: 'command', name });
  const navigate = (hash: string) => () => send({ type: 'navigate', hash });

  const file: MenuItemConstructorOptions = {
    label: 'File',
    submenu: [
      { label: 'Open Video…', accelerator: 'CmdOrCtrl+O', click: command('open-video') },
      { label: 'Open Model…', accelerator: 'CmdOrCtrl+Shift+O', click: command('open-model') },
      { label: 'Open Dataset…', click: command('open-dataset') },
      { label: 'Open Recent', submenu: recentItems(recent, send) },
      { type: 'separator' },
      { label: 'Export…', accelerator: 'CmdOrCtrl+E', click: command('export') },
      // macOS has Quit in the app menu.
      ...(mac
        ? []
        : [{ type: 'separator' } as const, { label: 'Quit', role: 'quit', accelerator: 'Ctrl+Q' } as const]),
    ],
  };
  const view: MenuItemConstructorOptions = {
    label: 'View',
    submenu: [
      ...VIEWS.map((v, i) => ({
        label: v.label,
        accelerator: `CmdOrCtrl+${i + 1}`,
        click: navigate(v.hash),
      })),
      { type: 'separator' },
      { role: 'zoomIn' },
      { role: 'zoomOut' },
      { role: 'resetZoom' },
      { type: 'separator' },
      { role: 'togglefullscreen' },
      ...(dev
        ? [{ type: 'separator' } as const, { role: 'reload' } as const, { role: 'toggleDevTools' } as const]
        : []),
    ],
  };
  const evaluate: MenuItemConstructorOptions = {
    label: 'Evaluate',
    submenu: [{ label: 'Run Full-Dataset Evaluation…', click: navigate('#/evaluate') }],
  };
  const train: MenuItemConstructorOptions = {
    label: 'Train',
    submenu: [{ label: 'New Run…', click: navigate('#/train') }],
  };
  const help: MenuItemConstructorOptions = {
    label: 'Help',
    role: 'help',
    submenu: [
      // '?' is shown but not registered: the renderer handles the key, so '?' still types in text fields.
      // macOS cannot show an accelerator without registering it, so it shows none.
      {
        label: 'Keyboard Shortcuts',
        ...(mac ? {} : { accelerator: '?', registerAccelerator: false }),
        click: command('shortcuts'),
      },
      { label: 'About Glimpse', click: command('about') },
    ],
  };
  const appMenu: MenuItemConstructorOptions[] = mac
    ? [
        {
          label: 'Glimpse',
          submenu: [
            { label: 'About Glimpse', click: command('about') },
            { type: 'separator' },
            { role: 'hide' },
            { role: 'hideOthers' },
            { role: 'unhide' },
            { type: 'separator' },
            { role: 'quit' },
          ],
        },
      ]
    : [];
  // Edit gives text fields copy/paste (and their shortcuts on macOS).
  const edit: MenuItemConstructorOptions = { role: 'editMenu' };
  return [...appMenu, file, edit, view, evaluate, train, help];
}
