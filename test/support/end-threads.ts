/**
 * Run as a script: starts onnx-session-loop.ts threads one after another and ends each a random moment after it
 * is up, with `endThread` (argument `end`) or with `worker.terminate()` (argument `terminate`). Exits 0 when all
 * ended; a thread ended inside a native call aborts the process instead.
 */
import { Worker } from 'node:worker_threads';
import { endThread } from '../../model/parallel/thread-end.ts';

const [how = 'end', count = '8'] = process.argv.slice(2);
const register = new URL('../../bin/register.js', import.meta.url).href;
const entry = new URL('./onnx-session-loop.ts', import.meta.url).href;
const boot = `import(${JSON.stringify(register)}).then(() => import(${JSON.stringify(entry)}));`;

for (let i = 0; i < Number(count); i++) {
  const worker = new Worker(boot, { eval: true });
  await new Promise((resolve) => worker.once('message', resolve));
  await new Promise((resolve) => setTimeout(resolve, Math.random() * 300));
  const code = new Promise<number>((resolve) => worker.once('exit', resolve));
  if (how === 'terminate') await worker.terminate();
  else await endThread(worker);
  console.log(`thread ${i} exited with code ${await code}`);
}
