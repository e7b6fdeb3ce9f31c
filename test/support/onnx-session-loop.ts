/**
 * A worker thread that builds and runs onnxruntime sessions without pause, so that nearly every moment of its
 * life is inside a native call: the worst case for ending it (model/parallel/thread-end.ts). It says 'up' once
 * its message handler is installed.
 */
import { parentPort } from 'node:worker_threads';
import { NativeMatMul } from '../../model/native/matmul-engine.ts';
import { exitThread } from '../../model/parallel/thread-end.ts';

const port = parentPort;
if (!port) throw new Error('onnx-session-loop.ts must run as a worker thread');
port.on('message', (m: { type?: string }) => {
  if (m.type === 'exit') exitThread();
});
port.postMessage('up');
const x = new Float32Array(4 * 4 * 64 * 64);
for (;;) {
  NativeMatMul.create(1).clipMean(x, [4, 4, 64, 64]);
  await new Promise((resolve) => setImmediate(resolve));
}
