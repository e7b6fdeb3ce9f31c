/**
 * The sandboxed preload (bundled to dist/electron/preload.cjs: sandboxed preloads load neither ESM nor
 * node_modules). Exposes `window.glimpse` (bridge.ts) through contextBridge; ipcRenderer itself never
 * reaches the page. Calls travel over a MessagePort straight to the engine's utility process: the preload
 * asks main for a port on every page load and queues calls until it arrives.
 */
import { contextBridge, ipcRenderer, webUtils } from 'electron';
import type { ClientMessage } from '../../common/wire.ts';
import type { ApiMethod, EngineEvent, GlimpseErrorData } from '../engine/api.ts';
import type { AppCommand, GlimpseBridge } from './bridge.ts';
import { callShapeError, IPC, isAppCommand, isServerMessage } from './messages.ts';

interface Pending {
  resolve(value: unknown): void;
  reject(error: GlimpseErrorData): void;
}

const pending = new Map<number, Pending>();
const eventListeners = new Set<(event: EngineEvent) => void>();
const commandListeners = new Set<(command: AppCommand) => void>();
const queued: ClientMessage[] = [];
/** What the preload uses of the page's DOM MessagePort (this program has no DOM lib to name it). */
interface PagePort {
  postMessage(message: unknown): void;
  onmessage: ((event: { data: unknown }) => void) | null;
}

let port: PagePort | null = null;
let nextId = 1;

function onPortMessage(data: unknown): void {
  if (!isServerMessage(data)) return;
  if (data.type === 'event') {
    for (const listener of eventListeners) listener(data.event);
    return;
  }
  const call = pending.get(data.id);
  if (!call) return;
  pending.delete(data.id);
  if (data.ok) call.resolve(data.value);
  else call.reject(data.error);
}

ipcRenderer.on(IPC.port, (event) => {
  const [received] = event.ports as unknown as PagePort[];
  if (!received) return;
  port = received;
  port.onmessage = (message) => onPortMessage(message.data);
  for (const message of queued.splice(0)) port.postMessage(message);
});

ipcRenderer.on(IPC.appCommand, (_event, command: unknown) => {
  if (!isAppCommand(command)) return;
  for (const listener of commandListeners) listener(command);
});

ipcRenderer.send(IPC.connect);

function subscribeTo<T>(listeners: Set<(value: T) => void>, callback: unknown): () => void {
  if (typeof callback !== 'function') throw new TypeError('expected a function');
  const listener = (value: T) => (callback as (value: T) => void)(value);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

const bridge: GlimpseBridge = {
  call(method, args) {
    const problem = callShapeError(method, args);
    if (problem) return Promise.reject(problem);
    const id = nextId++;
    const message: ClientMessage = { type: 'call', id, method: method as ApiMethod, args: args as unknown[] };
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      if (port) port.postMessage(message);
      else queued.push(message);
    });
  },
  subscribe: (callback) => subscribeTo(eventListeners, callback),
  onAppCommand: (callback) => subscribeTo(commandListeners, callback),
  pathForFile: (file) => webUtils.getPathForFile(file),
};

contextBridge.exposeInMainWorld('glimpse', bridge);
