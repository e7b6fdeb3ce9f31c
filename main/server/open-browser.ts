/** Opens a URL in the system browser where the platform has an opener; says false where it has none. */
import { spawn } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

export function browserOpener(platform: NodeJS.Platform, url: string): { command: string; args: string[] } {
  if (platform === 'darwin') return { command: 'open', args: [url] };
  // `start` is a cmd built-in; the empty string is its window title, so the quoted URL is not taken for one.
  if (platform === 'win32') return { command: 'cmd', args: ['/c', 'start', '""', `"${url}"`] };
  return { command: 'xdg-open', args: [url] };
}

function onPath(command: string, env: NodeJS.ProcessEnv): boolean {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, command), constants.X_OK);
      return true;
    } catch {
      // not in this folder
    }
  }
  return false;
}

/** Starts the opener detached; false when there is none (a headless box without xdg-open). */
export function openInBrowser(url: string, platform: NodeJS.Platform = process.platform): boolean {
  const { command, args } = browserOpener(platform, url);
  if (platform !== 'win32' && !onPath(command, process.env)) return false;
  // Verbatim on Windows: cmd parses its own quoting, Node's would double it.
  const child = spawn(command, args, {
    detached: true,
    stdio: 'ignore',
    windowsVerbatimArguments: platform === 'win32',
  });
  child.on('error', () => {});
  child.unref();
  return true;
}
