/**
 * A throwaway queue on this machine, for the bench and the tests: Debian's redis-server on a free loopback
 * port (its folder a temp one, removed at stop), persistence off unless asked for (then it can be restarted
 * mid-run as a lab's Redis is), and `glimpse worker` processes started as a lab starts them, each waited for
 * until it has joined the queue.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const GLIMPSE_BIN = fileURLToPath(new URL('../../bin/glimpse.js', import.meta.url));

/** True when `redis-server` runs from PATH. */
export function haveRedisServer(): boolean {
  return spawnSync('redis-server', ['--version'], { encoding: 'utf8' }).status === 0;
}

/** A loopback port nothing listens on (the OS's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}) before listening`);
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`redis-server did not listen on ${port} within ${timeoutMs} ms`);
}

export interface LocalRedis {
  url: string;
  port: number;
  /** Its folder (AOF files with persistence on); removed at stop. */
  dir: string;
  /**
   * Stops redis-server with SIGTERM (with persistence on it syncs its AOF first, as a shutdown does),
   * waits `downMs`, and starts it again on the same port and folder; resolves once it listens.
   */
  restart(downMs?: number): Promise<void>;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  /**
   * Keep the data across a restart: an append-only file fsynced on every write (appendfsync always, so
   * nothing a client was told is written can be lost), in the temp folder. Default off: no RDB or AOF.
   */
  persistence?: boolean;
}

/** Starts redis-server on a free loopback port; writes no RDB or AOF file unless `persistence` is on. */
export async function startLocalRedis(opts: LocalRedisOptions = {}): Promise<LocalRedis> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'glimpse-redis-'));
  const args = [
    ...['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--dir', dir],
    ...(opts.persistence ? ['--appendonly', 'yes', '--appendfsync', 'always'] : ['--appendonly', 'no']),
  ];
  const launch = async (): Promise<ChildProcess> => {
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    try {
      await waitForPort(port, child, 10_000);
    } catch (err) {
      await stopProcess(child);
      throw err;
    }
    return child;
  };
  let child: ChildProcess;
  try {
    child = await launch();
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    restart: async (downMs = 0) => {
      await stopProcess(child);
      await new Promise((r) => setTimeout(r, downMs));
      child = await launch();
    },
    stop: async () => {
      await stopProcess(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface WorkerProcess {
  child: ChildProcess;
  /** What it wrote to stderr so far. */
  log(): string;
  stop(): Promise<void>;
}

/**
 * Starts `glimpse worker --queue URL ...args` and resolves once it has joined the queue (its "worker … on …"
 * line); a short lock and stalled check by default, so a killed worker's job moves on within seconds.
 */
export async function startWorkerProcess(
  url: string,
  args: string[] = [],
  env: NodeJS.ProcessEnv = process.env,
): Promise<WorkerProcess> {
  const child = spawn(
    process.execPath,
    [GLIMPSE_BIN, 'worker', '--queue', url, '--lock-ms', '4000', '--stalled-check-ms', '2000', ...args],
    { env, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8');
  child.stderr?.on('data', (chunk: string) => {
    stderr += chunk;
  });
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`worker did not join within 90 s: ${stderr}`)), 90_000);
      const joined = () => {
        if (!/^worker \S+ on /m.test(stderr)) return;
        clearTimeout(timer);
        resolve();
      };
      child.stderr?.on('data', joined);
      child.once('exit', (code) => {
        clearTimeout(timer);
        reject(new Error(`worker exited (${code}) before joining the queue: ${stderr.trim()}`));
      });
    });
  } catch (err) {
    await stopProcess(child);
    throw err;
  }
  return { child, log: () => stderr, stop: () => stopProcess(child) };
}

/** SIGTERM, then SIGKILL after 10 s; resolves once the process has exited. */
export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
