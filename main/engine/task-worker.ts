/**
 * Worker thread entry: runs tasks one at a time on the backend the engine chose, reports progress, and
 * aborts the running task when asked. Heavy compute lives here so the engine's thread stays responsive.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { chooseBackend } from '../../model/backend.ts';
import type { Progress } from '../../common/progress.ts';
import type { QueueJobStatus } from './api.ts';
import { CancelledError } from '../../common/progress.ts';
import { toErrorData } from './errors.ts';
import { runJobTask } from './job-tasks.ts';
import { runInspectPlan } from './inspect-task.ts';
import { exitThread } from '../../model/parallel/thread-end.ts';
import type { FromWorker, Task, TaskResult, ToWorker } from './task-protocol.ts';

const port = parentPort;
if (!port) throw new Error('task-worker.ts must run as a worker thread');

let controller: AbortController | null = null;
// The backend starts loading as the thread boots, so a thread kept in reserve is ready for its first task.
const backendReady = chooseBackend((workerData as { backend: string }).backend);
// Loaded or failed (the first task reports the failure), the thread is idle from here on.
const ready = () => post({ type: 'ready' });
backendReady.then(ready, ready);

function post(message: FromWorker): void {
  port?.postMessage(message);
}

async function run(task: Task): Promise<TaskResult> {
  await backendReady;
  const signal = controller?.signal;
  const onProgress = (progress: Progress, queue?: QueueJobStatus) =>
    post({ type: 'progress', progress, ...(queue ? { queue } : {}) });
  if (task.kind === 'inspect') return { key: await runInspectPlan(task.plan, { signal, onProgress }) };
  return runJobTask(task.spec, task.context, { signal, onProgress });
}

port.on('message', (message: ToWorker) => {
  if (message.type === 'cancel') {
    controller?.abort();
    return;
  }
  if (message.type === 'exit') exitThread();
  controller = new AbortController();
  run(message.task).then(
    (result) => post({ type: 'done', result }),
    (err: unknown) => {
      const error =
        err instanceof CancelledError
          ? { code: 'cancelled' as const, message: err.message }
          : toErrorData(err);
      post({ type: 'failed', error });
    },
  );
});
