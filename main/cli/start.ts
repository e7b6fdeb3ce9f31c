/**
 * `npm start` (bin/start.js): the desktop app where Electron can run, else browser mode, with the reason
 * in one line. Builds what it needs first (the renderer when stale, the Electron bundles), so a fresh
 * clone needs no build step. Flags: those of `glimpse serve`; Electron uses --workspace.
 */
import { buildElectronBundles, REPO_ROOT } from '../electron/build.ts';
import { displayProblem, electronBinary, fetchElectron, runElectron } from '../electron/launch.ts';
import { runBrowserMode } from '../server/browser-mode.ts';
import { ensureRendererBuilt } from '../server/renderer-build.ts';
import { describeError, UsageError } from './command.ts';
import { browserModeFlags } from './serve.ts';

const DOWNLOAD_TIMEOUT_MS = Number(process.env.GLIMPSE_ELECTRON_DOWNLOAD_TIMEOUT_MS ?? 180_000);

const usage = `usage: npm start -- [--workspace DIR] [--port P] [--host H] [--no-open]

Starts the Glimpse desktop app (Electron); where Electron cannot run (no display, binary not available),
says why and serves the same app to a web browser instead (see glimpse serve --help for the flags).
`;

/** Electron's binary, fetched if needed, or the reason it cannot be used here. */
async function electronOrReason(): Promise<{ binary: string } | { reason: string }> {
  const noDisplay = displayProblem(process.platform, process.env);
  if (noDisplay) return { reason: noDisplay };
  const present = electronBinary();
  if (present) return { binary: present };
  const failure = await fetchElectron(DOWNLOAD_TIMEOUT_MS);
  const fetched = failure === null ? electronBinary() : null;
  return fetched
    ? { binary: fetched }
    : { reason: failure ?? 'binary download finished but no binary found' };
}

export async function start(argv: string[]): Promise<number> {
  const flags = browserModeFlags(argv);
  if (flags.help) {
    process.stdout.write(usage);
    return 0;
  }
  await ensureRendererBuilt({
    onBuild: (reason) => process.stderr.write(`glimpse: building the renderer (${reason})…\n`),
  });
  let electron: { binary: string } | { reason: string };
  try {
    await buildElectronBundles();
    electron = await electronOrReason();
  } catch (err) {
    electron = { reason: describeError(err) };
  }
  if ('binary' in electron)
    return runElectron(electron.binary, REPO_ROOT, flags.workspace ? ['--workspace', flags.workspace] : []);
  process.stderr.write(`Electron is not available (${electron.reason}); opening browser mode instead\n`);
  return runBrowserMode({ ...flags, stdout: process.stdout, stderr: process.stderr });
}

export async function main(argv: string[]): Promise<number> {
  try {
    return await start(argv);
  } catch (err) {
    const hint = err instanceof UsageError ? ' (see npm start -- --help)' : '';
    process.stderr.write(`glimpse start: ${describeError(err)}${hint}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
