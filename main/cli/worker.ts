/** `glimpse worker`: one per machine (or GPU); takes extraction and evaluation jobs from the queue. */
import { chooseBackend } from '../../model/backend.ts';
import { type Command, intFlag, parseFlags, requireFlag } from './command.ts';

const usage = `glimpse worker --queue redis://HOST:PORT[/DB] [options]

Runs until stopped: takes jobs of 'glimpse extract --queue' and 'glimpse evaluate --queue' runs and writes
their shards to the run's output folder, which this machine must see at the same path (a shared folder).
SIGTERM or Ctrl-C puts the job in hand back in the queue for another worker and exits. A job whose
backbone, checkpoint or glimpse version differs from this machine's is refused with the reason.

  --queue URL            the Redis the coordinators use (Redis ≥ 7)
  --concurrency N        jobs at once in this process (default 1)
  --backend B            tensorflow-gpu | tensorflow | onnx | wasm | cpu (default: the fastest that loads)
  --backbone B           serve extraction jobs of this backbone only (default: load what each job names)
  --cache-dir DIR        where downloaded backbones are kept (default ~/.cache/glimpse)
  --lock-ms N            a job's lock lasts N ms without renewal: how soon a dead worker's job moves on
                         (default 30000; every worker and coordinator of a queue should agree)
  --stalled-check-ms N   how often to look for jobs of dead workers (default 30000)
`;

const FLAGS = {
  queue: { type: 'string' },
  concurrency: { type: 'string' },
  backend: { type: 'string' },
  backbone: { type: 'string' },
  'cache-dir': { type: 'string' },
  'lock-ms': { type: 'string' },
  'stalled-check-ms': { type: 'string' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const queue = requireFlag(v.queue, 'queue');
  const concurrency = intFlag(v.concurrency, 'concurrency', 1);
  const lockDurationMs = intFlag(v['lock-ms'], 'lock-ms', 30_000, 100);
  const stalledIntervalMs = intFlag(v['stalled-check-ms'], 'stalled-check-ms', 30_000, 100);
  const backend = await chooseBackend(v.backend);
  const { runWorker } = await import('../queue/worker.ts');
  const stop = new AbortController();
  const onSignal = () => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await runWorker(
      {
        queue,
        concurrency,
        backendName: backend.name,
        backbone: v.backbone,
        cacheDir: v['cache-dir'],
        lockDurationMs,
        stalledIntervalMs,
        log: (line) => process.stderr.write(`${line}\n`),
      },
      stop.signal,
    );
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  process.stderr.write('worker stopped\n');
  return 0;
}

export const workerCommand: Command = {
  name: 'worker',
  summary: 'take extraction and evaluation jobs from a queue (Redis) for coordinators on other machines',
  usage,
  run,
};
