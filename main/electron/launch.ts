/**
 * Finding, fetching and starting the Electron binary, from plain Node (`npm start`). The binary is not
 * downloaded at install (package.json allowScripts), so the first start fetches it with electron's own
 * install.js; where that cannot work (no display, offline) the caller falls back to browser mode.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);

/**
 * The Electron executable when its binary is installed, else null. Read from the package's path.txt as
 * its index.js does, without requiring it: that index.js downloads a missing binary synchronously, with
 * no time limit.
 */
export function electronBinary(): string | null {
  const dir = dirname(require.resolve('electron/package.json'));
  let executable: string;
  try {
    executable = readFileSync(join(dir, 'path.txt'), 'utf8').trim();
  } catch {
    return null;
  }
  const override = process.env.ELECTRON_OVERRIDE_DIST_PATH;
  const binary = override ? join(override, executable) : join(dir, 'dist', executable);
  return executable !== '' && existsSync(binary) ? binary : null;
}

/** Why Electron cannot open a window here before even trying, or null. */
export function displayProblem(platform: NodeJS.Platform, env: NodeJS.ProcessEnv): string | null {
  if (platform !== 'linux' && platform !== 'freebsd' && platform !== 'openbsd') return null;
  return env.DISPLAY || env.WAYLAND_DISPLAY ? null : 'no display: DISPLAY and WAYLAND_DISPLAY are unset';
}

/** Runs electron's install.js (the download) within `timeoutMs`; resolves with null or why it failed. */
export function fetchElectron(timeoutMs: number): Promise<string | null> {
  const installer = join(dirname(require.resolve('electron/package.json')), 'install.js');
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD;
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [installer], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      if (stderr.length < 64 * 1024) stderr += chunk.toString();
    });
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      resolve(`binary download timed out after ${Math.round(timeoutMs / 1000)} s`);
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve(`binary download failed: ${err.message}`);
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) return resolve(null);
      // install.js prints the error's stack; its first line says what went wrong.
      const first = stderr.split('\n').find((line) => line.trim() !== '');
      resolve(`binary download failed: ${first?.trim() ?? `install.js exited with code ${code}`}`);
    });
  });
}

/** Runs the app in Electron until its window closes; resolves with Electron's exit code. */
export function runElectron(binary: string, appDir: string, args: string[]): Promise<number> {
  return new Promise((resolve) => {
    const child = spawn(binary, [appDir, ...args], { stdio: 'inherit' });
    const forward = (signal: NodeJS.Signals) => child.kill(signal);
    process.on('SIGINT', forward);
    process.on('SIGTERM', forward);
    child.on('error', (err) => {
      process.stderr.write(`glimpse: Electron did not start: ${err.message}\n`);
      resolve(1);
    });
    child.on('exit', (code, signal) => {
      process.off('SIGINT', forward);
      process.off('SIGTERM', forward);
      resolve(code ?? (signal ? 1 : 0));
    });
  });
}
