/**
 * The queue tests' Redis and workers: the bench's throwaway queue (main/bench/local-queue.ts), with the
 * workers on wasm, the backend the single-machine runs they are compared with use.
 */
import {
  haveRedisServer,
  startLocalRedis,
  startWorkerProcess,
  type LocalRedis,
  type LocalRedisOptions,
  type WorkerProcess,
} from '../../main/bench/local-queue.ts';

export { freePort, stopProcess } from '../../main/bench/local-queue.ts';
export type TestRedis = LocalRedis;
export type TestWorker = WorkerProcess;

export const HAVE_REDIS = haveRedisServer();

/**
 * Starts redis-server on a free loopback port: no RDB/AOF files, or with `{ persistence: true }` an AOF
 * fsynced on every write, so that `restart()` loses nothing (its temp folder is removed at stop).
 */
export const startRedis = (opts?: LocalRedisOptions): Promise<TestRedis> => startLocalRedis(opts);

/** Starts `glimpse worker --queue URL` on wasm and waits until it has joined the queue. */
export const startWorker = (url: string, args: string[] = []): Promise<TestWorker> =>
  startWorkerProcess(url, args, { ...process.env, GLIMPSE_BACKEND: 'wasm' });
