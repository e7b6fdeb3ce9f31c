/**
 * One API call from either transport (browser-mode WebSocket, Electron MessagePort) to the engine: the
 * message's shape is checked, its arguments validated by the shared schemas (parseApiCall), the engine
 * called, and the answer is a result message; nothing a client sends can make this throw.
 */
import type { ClientMessage, ServerMessage } from '../../common/wire.ts';
import type { GlimpseApi } from '../engine/api.ts';
import { GlimpseError, toErrorData } from '../engine/errors.ts';
import { parseApiCall } from '../engine/schemas.ts';

/** The id answers carry when a message cannot be attributed to a call (no readable id). */
export const UNATTRIBUTED_ID = -1;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A validated call, or a bad-request GlimpseError (with the call's id when it had a usable one). */
export function parseClientMessage(message: unknown): ClientMessage {
  if (!isRecord(message) || message.type !== 'call')
    throw new GlimpseError('bad-request', 'expected a message { type: "call", id, method, args }');
  if (!Number.isSafeInteger(message.id) || (message.id as number) < 0)
    throw new GlimpseError('bad-request', 'call id must be a non-negative integer');
  const { method, args } = parseApiCall(message.method, message.args);
  return { type: 'call', id: message.id as number, method, args };
}

export function errorResult(id: number, err: unknown): ServerMessage {
  return { type: 'result', id, ok: false, error: toErrorData(err) };
}

function callIdOf(message: unknown): number {
  return isRecord(message) && Number.isSafeInteger(message.id) && (message.id as number) >= 0
    ? (message.id as number)
    : UNATTRIBUTED_ID;
}

/** Validates and runs one message against the engine; always resolves to the answer to send back. */
export async function dispatchMessage(api: GlimpseApi, message: unknown): Promise<ServerMessage> {
  let call: ClientMessage;
  try {
    call = parseClientMessage(message);
  } catch (err) {
    return errorResult(callIdOf(message), err);
  }
  try {
    // parseApiCall checked the argument tuple for this very method.
    const fn = api[call.method] as (...args: unknown[]) => Promise<unknown>;
    const value = await fn.apply(api, call.args);
    return { type: 'result', id: call.id, ok: true, value };
  } catch (err) {
    return errorResult(call.id, err);
  }
}
