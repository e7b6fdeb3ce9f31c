/** Runs the real `glimpse` CLI in a child process, as a user would. */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
// The reference fixtures live in the repository (test/fixtures/reference), so a clone alone runs the tests.
export const FIXTURES = fileURLToPath(new URL('../fixtures/', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runGlimpse(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(process.execPath, [`${REPO_ROOT}bin/glimpse.js`, ...args], {
    encoding: 'utf8',
    env: { ...process.env, GLIMPSE_BACKEND: 'wasm', ...env },
    timeout: 600_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** Runs Debian's python3 (numpy, h5py) on a script given as text. */
export function runPython(script: string, args: string[] = []): string {
  const r = spawnSync('/usr/bin/python3', ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`python failed: ${r.stderr}`);
  return r.stdout;
}
