/**
 * Electron's main process (bundled to dist/electron/main.cjs): one window, menus, dialogs and routing;
 * it never computes. The renderer comes from app://glimpse (renderer/dist only, with the CSP as a header),
 * the engine runs in a utility process reached by the renderer over a MessagePort, videos come from
 * glimpse-media://media/ID. Navigation, new windows, webviews and permission requests are all refused.
 */
import {
  app,
  BrowserWindow,
  dialog,
  ipcMain,
  Menu,
  MessageChannelMain,
  protocol,
  session,
  shell,
  utilityProcess,
  type UtilityProcess,
} from 'electron';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import type { RecentFiles } from '../engine/api.ts';
import { SECURITY_HEADERS } from '../server/csp.ts';
import { contentTypeFor, resolveStaticFile } from '../server/static-files.ts';
import type { AppCommand, OpenRole } from './bridge.ts';
import { fileResponse, textResponse } from './file-response.ts';
import { menuTemplate } from './menu.ts';
import { type HostReply, type HostRequest, IPC, parseHostReply } from './messages.ts';
import {
  APP_ENTRY,
  APP_HOST,
  APP_SCHEME,
  electronCsp,
  isAppUrl,
  MEDIA_SCHEME,
  mediaIdOf,
  windowOptions,
} from './window-options.ts';

const HOST_TIMEOUT_MS = 15_000;

const DIALOGS: Record<OpenRole, Electron.OpenDialogOptions> = {
  video: {
    title: 'Open Video',
    properties: ['openFile'],
    filters: [
      {
        name: 'Videos',
        extensions: ['mp4', 'm4v', 'mov', 'mkv', 'webm', 'avi', 'mpg', 'mpeg', 'wmv', 'flv'],
      },
      { name: 'All files', extensions: ['*'] },
    ],
  },
  model: {
    title: 'Open Model',
    properties: ['openFile'],
    filters: [
      { name: 'Glimpse or reference checkpoints', extensions: ['h5', 'npz'] },
      { name: 'All files', extensions: ['*'] },
    ],
  },
  dataset: { title: 'Open Dataset (a feature dataset folder)', properties: ['openDirectory'] },
};

const OPEN_COMMANDS: Partial<Record<string, OpenRole>> = {
  'open-video': 'video',
  'open-model': 'model',
  'open-dataset': 'dataset',
};

const { values: flags } = parseArgs({
  // All of argv: dev runs have the app folder in it, packaged ones not; unknown Chromium switches are ignored.
  args: process.argv,
  options: { workspace: { type: 'string' } },
  strict: false,
});

protocol.registerSchemesAsPrivileged([
  {
    scheme: APP_SCHEME,
    privileges: { standard: true, secure: true, supportFetchAPI: true, codeCache: true },
  },
  // stream: <video> reads it with range requests.
  { scheme: MEDIA_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true, stream: true } },
]);

/** The engine host and the requests main has in flight to it. */
class EngineHost {
  private readonly waiting = new Map<number, (reply: HostReply) => void>();
  private nextId = 1;
  readonly child: UtilityProcess;
  readonly ready: Promise<void>;

  constructor(appPath: string, workspace: string | undefined) {
    const args = ['--host-module', join(appPath, 'main', 'electron', 'engine-host.ts')];
    if (workspace) args.push('--workspace', workspace);
    this.child = utilityProcess.fork(join(appPath, 'dist', 'electron', 'engine-host.cjs'), args, {
      serviceName: 'Glimpse engine',
      stdio: 'inherit',
    });
    this.ready = new Promise((resolve, reject) => {
      this.child.on('message', (message: unknown) => {
        const reply = parseHostReply(message);
        if (reply === null) return;
        if (reply.type === 'ready') resolve();
        else if (reply.type === 'failed') reject(new Error(reply.message));
        else {
          this.waiting.get(reply.requestId)?.(reply);
          this.waiting.delete(reply.requestId);
        }
      });
      this.child.once('exit', (code) => reject(new Error(`the engine process exited with code ${code}`)));
    });
  }

  connect(port: Electron.MessagePortMain): void {
    this.child.postMessage({ type: 'connect' } satisfies HostRequest, [port]);
  }

  ask(request: { type: 'resolve-media'; id: string } | { type: 'recent' }): Promise<HostReply | null> {
    const requestId = this.nextId++;
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(requestId);
        resolve(null);
      }, HOST_TIMEOUT_MS);
      this.waiting.set(requestId, (reply) => {
        clearTimeout(timer);
        resolve(reply);
      });
      this.child.postMessage({ ...request, requestId } satisfies HostRequest);
    });
  }

  async recent(): Promise<RecentFiles> {
    const reply = await this.ask({ type: 'recent' });
    return reply?.type === 'recent' ? reply.recent : { models: [], videos: [], datasets: [] };
  }
}

function registerProtocols(rendererDir: string, host: EngineHost): void {
  const pageHeaders = { ...SECURITY_HEADERS, 'Content-Security-Policy': electronCsp() };
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    if (url.host !== APP_HOST) return textResponse(404, 'not found', pageHeaders);
    const file = await resolveStaticFile(rendererDir, url.pathname);
    if (!file) return textResponse(404, 'not found', pageHeaders);
    return fileResponse(file, contentTypeFor(file), request, pageHeaders);
  });
  protocol.handle(MEDIA_SCHEME, async (request) => {
    const id = mediaIdOf(request.url);
    const reply = id === null ? null : await host.ask({ type: 'resolve-media', id });
    if (reply?.type !== 'media' || reply.media === null)
      return textResponse(404, 'no such media', SECURITY_HEADERS);
    return fileResponse(reply.media.path, reply.media.contentType, request, SECURITY_HEADERS);
  });
}

/** A link to an engine file opened as a new window (an export's "Open result") opens in the system's app. */
async function openMediaExternally(host: EngineHost, url: string): Promise<void> {
  const id = mediaIdOf(url);
  const reply = id === null ? null : await host.ask({ type: 'resolve-media', id });
  if (reply?.type === 'media' && reply.media !== null) await shell.openPath(reply.media.path);
}

function lockDown(host: EngineHost): void {
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents) => {
    // A single-page app: hash changes are in-page, so every real navigation is refused.
    contents.on('will-navigate', (event) => event.preventDefault());
    contents.on('will-redirect', (event) => event.preventDefault());
    contents.on('will-attach-webview', (event) => event.preventDefault());
    // No new windows, ever; engine files the page links to open in the system's own app instead.
    contents.setWindowOpenHandler(({ url }) => {
      void openMediaExternally(host, url);
      return { action: 'deny' };
    });
  });
}

async function start(): Promise<void> {
  if (!app.requestSingleInstanceLock()) {
    app.quit();
    return;
  }
  await app.whenReady();
  const appPath = app.getAppPath();
  const host = new EngineHost(appPath, typeof flags.workspace === 'string' ? flags.workspace : undefined);
  lockDown(host);
  registerProtocols(join(appPath, 'renderer', 'dist'), host);

  const win = new BrowserWindow(windowOptions({ preload: join(appPath, 'dist', 'electron', 'preload.cjs') }));
  win.once('ready-to-show', () => win.show());
  app.on('second-instance', () => {
    if (win.isMinimized()) win.restore();
    win.focus();
  });

  const toRenderer = (command: AppCommand) => {
    if (!win.isDestroyed()) win.webContents.send(IPC.appCommand, command);
  };
  const setMenu = (recent: RecentFiles) =>
    Menu.setApplicationMenu(
      Menu.buildFromTemplate(
        menuTemplate({ platform: process.platform, recent, send: route, dev: !app.isPackaged }),
      ),
    );
  const refreshMenu = async () => setMenu(await host.recent());
  // Open commands show the native dialog here and reach the renderer as the chosen path.
  async function openWithDialog(role: OpenRole) {
    const picked = await dialog.showOpenDialog(win, DIALOGS[role]);
    const [path] = picked.filePaths;
    if (!picked.canceled && path) toRenderer({ type: 'open', role, path });
  }
  function route(command: AppCommand) {
    const role = command.type === 'command' ? OPEN_COMMANDS[command.name] : undefined;
    if (role) void openWithDialog(role);
    else toRenderer(command);
  }

  ipcMain.on(IPC.connect, (event) => {
    // Only our own page in our own window gets a port to the engine.
    if (event.sender !== win.webContents || !isAppUrl(event.senderFrame?.url ?? '')) return;
    const { port1, port2 } = new MessageChannelMain();
    host.connect(port1);
    event.sender.postMessage(IPC.port, null, [port2]);
  });
  // Recent files change as the renderer opens things; the menu catches up whenever the window is focused.
  win.on('focus', () => void refreshMenu());

  let quitting = false;
  const engineStopped = (message: string) => {
    if (quitting) return;
    quitting = true;
    dialog.showErrorBox('Glimpse: the engine stopped', message);
    app.quit();
  };
  app.on('before-quit', () => {
    quitting = true;
  });
  app.on('window-all-closed', () => app.quit());
  app.on('will-quit', () => host.child.kill());
  host.child.on('exit', (code) => engineStopped(`the engine process exited with code ${code}`));
  host.ready.then(refreshMenu, (err: unknown) =>
    engineStopped(err instanceof Error ? err.message : String(err)),
  );

  setMenu({ models: [], videos: [], datasets: [] });
  await win.loadURL(APP_ENTRY);
}

start().catch((err: unknown) => {
  dialog.showErrorBox('Glimpse could not start', err instanceof Error ? err.message : String(err));
  app.exit(1);
});
