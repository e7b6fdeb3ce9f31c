// Finds a working ffmpeg (and ffprobe when one is available) once per process.
// Order: GLIMPSE_FFMPEG → ffmpeg-static → @ffmpeg-installer/ffmpeg → `ffmpeg` on PATH.
import { execFile } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

export type FfmpegSource = 'env' | 'ffmpeg-static' | '@ffmpeg-installer/ffmpeg' | 'path';

export interface FfmpegLocation {
  ffmpeg: string;
  /** null when no ffprobe was found; probing then parses `ffmpeg -i` output. */
  ffprobe: string | null;
  source: FfmpegSource;
}

const exe = process.platform === 'win32' ? '.exe' : '';
const VERSION_TIMEOUT_MS = 15_000;

let cached: Promise<FfmpegLocation> | null = null;

/** Locates ffmpeg once; later calls share the result. A failed search is not cached, so it can be retried. */
export function locateFfmpeg(): Promise<FfmpegLocation> {
  if (!cached) {
    cached = searchFfmpeg().catch((err: unknown) => {
      cached = null;
      throw err;
    });
  }
  return cached;
}

/** Forget the cached location (tests, or after the user changes GLIMPSE_FFMPEG). */
export function resetFfmpegLocation(): void {
  cached = null;
}

async function searchFfmpeg(): Promise<FfmpegLocation> {
  const tried: string[] = [];

  // An explicit override that does not work is an error, not something to silently skip.
  const envValue = process.env.GLIMPSE_FFMPEG;
  if (envValue) {
    // A bare name ("ffmpeg") means that program on PATH; a path is taken as given.
    const fromEnv =
      envValue.includes('/') || envValue.includes(path.sep)
        ? path.resolve(envValue)
        : ((await findOnPath(envValue)) ?? envValue);
    const problem = await whyNotRunnable(fromEnv);
    if (problem) throw new Error(`GLIMPSE_FFMPEG=${envValue}: ${problem}`);
    const beside = path.join(path.dirname(fromEnv), `ffprobe${exe}`);
    return { ffmpeg: fromEnv, ffprobe: (await whyNotRunnable(beside)) ? null : beside, source: 'env' };
  }

  const candidates: Array<{ source: FfmpegSource; find: () => string | null }> = [
    { source: 'ffmpeg-static', find: () => packagePath('ffmpeg-static') },
    { source: '@ffmpeg-installer/ffmpeg', find: () => packagePath('@ffmpeg-installer/ffmpeg') },
    { source: 'path', find: () => null },
  ];
  for (const { source, find } of candidates) {
    const ffmpeg = source === 'path' ? await findOnPath('ffmpeg') : find();
    if (!ffmpeg) {
      tried.push(`${source}: not installed`);
      continue;
    }
    const problem = await whyNotRunnable(ffmpeg);
    if (problem) {
      tried.push(`${source} (${ffmpeg}): ${problem}`);
      continue;
    }
    return { ffmpeg, ffprobe: await locateFfprobe(ffmpeg), source };
  }
  throw new Error(
    `ffmpeg not found (install ffmpeg or set GLIMPSE_FFMPEG to its path); tried ${tried.join('; ')}`,
  );
}

/** ffprobe beside the chosen ffmpeg, else @ffprobe-installer/ffprobe if installed, else ffprobe on PATH. */
async function locateFfprobe(ffmpeg: string): Promise<string | null> {
  const candidates = [
    path.join(path.dirname(ffmpeg), `ffprobe${exe}`),
    packagePath('@ffprobe-installer/ffprobe'),
    await findOnPath('ffprobe'),
  ];
  for (const candidate of candidates) {
    if (candidate && !(await whyNotRunnable(candidate))) return candidate;
  }
  return null;
}

/** Binary path exported by an npm package (a string, or an object with `.path`), or null if not installed. */
function packagePath(name: string): string | null {
  const require = createRequire(import.meta.url);
  let exported: unknown;
  try {
    exported = require(name);
  } catch {
    return null; // not installed, or (ffmpeg-installer) its platform package is missing
  }
  const found =
    typeof exported === 'string'
      ? exported
      : exported && typeof exported === 'object' && 'path' in exported && typeof exported.path === 'string'
        ? exported.path
        : null;
  // Packaged Electron apps keep binaries outside the asar archive.
  return found ? found.replace(`app.asar${path.sep}`, `app.asar.unpacked${path.sep}`) : null;
}

async function findOnPath(name: string): Promise<string | null> {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of dirs) {
    const candidate = path.join(dir, name + exe);
    try {
      const info = await stat(candidate);
      if (!info.isFile()) continue;
      await access(candidate, fsConstants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return null;
}

/** null when `binary -version` runs and exits 0, else a one-line reason. */
async function whyNotRunnable(binary: string): Promise<string | null> {
  try {
    const info = await stat(binary);
    if (!info.isFile()) return 'not a file';
  } catch {
    return 'does not exist';
  }
  return new Promise((resolve) => {
    execFile(binary, ['-version'], { timeout: VERSION_TIMEOUT_MS, windowsHide: true }, (err) => {
      resolve(err ? `does not run (${err.message.split('\n')[0]})` : null);
    });
  });
}
