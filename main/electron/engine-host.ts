/**
 * The engine in Electron's utility process: owns TensorFlow.js, h5wasm and the ffmpeg children, so the
 * main process and the window never compute. Each renderer port (one per page load) gets its calls
 * validated by the shared schemas and answered (dispatchMessage); engine events go to every port. The
 * main process asks it for media files and recent files over the parent port.
 *
 * Started by host-bootstrap.ts (dist/electron/engine-host.cjs) with `--workspace DIR`.
 */
import type { MessagePortMain } from 'electron';
import { parseArgs } from 'node:util';
import { createEngine, type Engine } from '../engine/engine.ts';
import { defaultWorkspaceDir } from '../engine/workspace.ts';
import { dispatchMessage, errorResult } from '../server/dispatch.ts';
import { type HostReply, parseHostRequest } from './messages.ts';
import { MEDIA_SCHEME } from './window-options.ts';

/** Answers main's requests that are not a port hand-over; null for messages that need no answer. */
export async function answerHostRequest(engine: Engine, message: unknown): Promise<HostReply | null> {
  const request = parseHostRequest(message);
  if (request === null || request.type === 'connect') return null;
  if (request.type === 'resolve-media')
    return { type: 'media', requestId: request.requestId, media: engine.resolveMedia(request.id) };
  const { recent } = await engine.workspace();
  return { type: 'recent', requestId: request.requestId, recent };
}

function servePort(engine: Engine, port: MessagePortMain, ports: Set<MessagePortMain>): void {
  ports.add(port);
  port.on('message', (event) => {
    void dispatchMessage(engine, event.data).then((answer) => {
      try {
        port.postMessage(answer);
      } catch (err) {
        // Not structured-cloneable: the engine's bug, answered as an error rather than a crash.
        if (answer.type === 'result') port.postMessage(errorResult(answer.id, err));
      }
    });
  });
  port.on('close', () => ports.delete(port));
  port.start();
}

async function main(): Promise<void> {
  const parent = process.parentPort;
  const { values } = parseArgs({
    args: process.argv,
    options: { workspace: { type: 'string' } },
    strict: false,
  });
  const workspace = typeof values.workspace === 'string' ? values.workspace : defaultWorkspaceDir();
  let engine: Engine;
  try {
    engine = await createEngine({
      workspace,
      transport: 'electron',
      mediaUrl: (id) => `${MEDIA_SCHEME}://media/${encodeURIComponent(id)}`,
    });
  } catch (err) {
    parent.postMessage({
      type: 'failed',
      message: err instanceof Error ? err.message : String(err),
    } satisfies HostReply);
    return;
  }
  const ports = new Set<MessagePortMain>();
  engine.subscribe((event) => {
    for (const port of ports) port.postMessage({ type: 'event', event });
  });
  parent.on('message', (event) => {
    const request = parseHostRequest(event.data);
    if (request?.type === 'connect') {
      const [port] = event.ports;
      if (port) servePort(engine, port, ports);
      return;
    }
    void answerHostRequest(engine, event.data).then(
      (reply) => reply && parent.postMessage(reply),
      () => {},
    );
  });
  const shutdown = () => {
    void engine.close().finally(() => process.exit(0));
  };
  process.on('SIGTERM', shutdown);
  parent.postMessage({ type: 'ready' } satisfies HostReply);
}

// Only when run as the utility process; importing this module elsewhere (tests) starts nothing.
if (process.parentPort) void main();
