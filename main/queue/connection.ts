/**
 * The queue's Redis: the URL, a first connection that fails fast (one line naming the URL, within a few
 * seconds, instead of ioredis retrying for ever), the server version check, and the connections BullMQ
 * runs on once the server is known to answer. bullmq and ioredis are imported here and in the other
 * main/queue modules only, dynamically by their callers, so a run without --queue never loads them.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';

/** The BullMQ queue every coordinator and worker of one Redis database shares. */
export const QUEUE_NAME = 'glimpse';
/** Oldest Redis the queue runs on (BullMQ's scripts and the tests' Debian redis-server 7.0). */
export const MIN_REDIS_MAJOR = 7;

export const GLIMPSE_VERSION = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;

export interface QueueTarget {
  /** The URL as given, for messages (without a password). */
  label: string;
  options: RedisOptions;
}

/** redis://[user:password@]HOST[:PORT][/DB] (or rediss:// for TLS) → ioredis options. */
export function parseQueueUrl(url: string): QueueTarget {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`--queue ${url}: not a URL (expected redis://HOST:PORT[/DB])`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:') {
    throw new Error(`--queue ${url}: not a redis:// URL (expected redis://HOST:PORT[/DB])`);
  }
  const dbText = u.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new Error(`--queue ${url}: database '${dbText}' is not a number`);
  const port = u.port === '' ? 6379 : Number(u.port);
  const label = `${u.protocol}//${u.hostname}:${port}${db ? `/${db}` : ''}`;
  return {
    label,
    options: {
      host: u.hostname || '127.0.0.1',
      port,
      db,
      ...(u.username ? { username: decodeURIComponent(u.username) } : {}),
      ...(u.password ? { password: decodeURIComponent(u.password) } : {}),
      ...(u.protocol === 'rediss:' ? { tls: {} } : {}),
    },
  };
}

/**
 * Connects once, without retries, and checks the server: answers within `timeoutMs`, is Redis ≥ 7.
 * Returns the server version. Every failure is one line naming the URL.
 */
export async function checkQueueServer(target: QueueTarget, timeoutMs = 3000): Promise<string> {
  const client = new Redis({
    ...target.options,
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // The cause of a failed connection arrives as an event; the awaited call only says it closed.
  let cause: string | null = null;
  client.on('error', (err: Error) => {
    cause ??= err.message.split('\n')[0];
  });
  try {
    await withTimeout(client.connect(), timeoutMs, `${target.label}: does not answer within ${timeoutMs} ms`);
    const info = await withTimeout(client.info('server'), timeoutMs, `${target.label}: INFO timed out`);
    const version = /redis_version:([^\r\n]+)/.exec(info)?.[1]?.trim();
    if (!version) throw new Error(`${target.label}: the server does not report redis_version (not a Redis?)`);
    const major = Number(version.split('.')[0]);
    if (!(major >= MIN_REDIS_MAJOR)) {
      throw new Error(
        `${target.label}: Redis ${version} is too old (the queue needs Redis ≥ ${MIN_REDIS_MAJOR})`,
      );
    }
    return version;
  } catch (err) {
    const line = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new Error(
      line.startsWith(target.label) ? line : `${target.label}: does not answer (${cause ?? line})`,
    );
  } finally {
    client.disconnect();
  }
}

/**
 * A connection for BullMQ (Queue, Worker, QueueEvents) once the server is known to answer: it retries
 * for ever with a capped back-off, so a Redis restarted mid-run is rejoined, and never fails a command
 * for want of a connection (BullMQ's workers require maxRetriesPerRequest null).
 */
export function queueConnection(target: QueueTarget, name?: string): Redis {
  const client = new Redis({
    ...target.options,
    maxRetriesPerRequest: null,
    retryStrategy: (times) => Math.min(200 * times, 2000),
    ...(name ? { connectionName: name } : {}),
  });
  // Reconnection is automatic; errors during it are not the caller's to handle one by one.
  client.on('error', () => {});
  return client;
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
