/**
 * Browser mode as a whole, for `glimpse serve` and the `npm start` fallback: the renderer built when
 * needed, the engine on its workspace, the server, the URL printed, the browser opened, and a clean
 * shutdown on SIGINT/SIGTERM.
 */
import { createEngine } from '../engine/engine.ts';
import { defaultWorkspaceDir } from '../engine/workspace.ts';
import { openInBrowser } from './open-browser.ts';
import { ensureRendererBuilt } from './renderer-build.ts';
import { isLoopbackHost, startServer } from './server.ts';

export interface BrowserModeOptions {
  port: number;
  host: string;
  /** Default: the platform's user-data folder. */
  workspace?: string;
  open: boolean;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Runs until SIGINT or SIGTERM; resolves with the exit code once the engine has closed. */
export async function runBrowserMode(options: BrowserModeOptions): Promise<number> {
  const { stdout, stderr } = options;
  const rendererDir = await ensureRendererBuilt({
    onBuild: (reason) => stderr.write(`glimpse: building the renderer (${reason})…\n`),
  });
  let server: Awaited<ReturnType<typeof startServer>> | null = null;
  const engine = await createEngine({
    workspace: options.workspace ?? defaultWorkspaceDir(),
    transport: 'browser',
    mediaUrl: (id) => `/media/${encodeURIComponent(id)}`,
  });
  try {
    server = await startServer({ engine, host: options.host, port: options.port, rendererDir });
  } catch (err) {
    await engine.close();
    throw err;
  }
  if (!isLoopbackHost(options.host))
    stderr.write(
      `glimpse: warning: listening on ${options.host}, not loopback: anyone who can reach this port and has the token can use the engine and read the files it opens\n`,
    );
  // The URL comes last: whoever waits for it has the warning already.
  stdout.write(`Glimpse is running at ${server.url}\n`);
  if (options.open && !process.env.GLIMPSE_NO_OPEN && !openInBrowser(server.url))
    stderr.write('glimpse: no system browser opener found; open the URL above yourself\n');

  const running = server;
  return new Promise<number>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      stderr.write(`glimpse: ${signal}, shutting down\n`);
      void running
        .close()
        .then(() => engine.close())
        .then(
          () => resolve(0),
          (err: unknown) => {
            stderr.write(`glimpse: closing the engine failed: ${err instanceof Error ? err.message : err}\n`);
            resolve(1);
          },
        );
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
