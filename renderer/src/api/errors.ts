/**
 * Errors as the UI sees them: GlimpseErrorData `{ code, message, file? }` whatever the transport threw.
 * The renderer cannot import main/engine/errors.ts (values from main/ are off limits), hence this small
 * counterpart of its toErrorData.
 */
import type { GlimpseErrorData } from '../../../main/engine/api.ts';
import { isGlimpseErrorData } from '../../../common/error-data.ts';

/** A rejected API call: carries the engine's error data unchanged. */
export class ApiError extends Error {
  readonly data: GlimpseErrorData;
  constructor(data: GlimpseErrorData) {
    super(data.message);
    this.name = 'ApiError';
    this.data = data;
  }
}

/** Any thrown value as error data, first line only. */
export function toErrorData(err: unknown): GlimpseErrorData {
  if (err instanceof ApiError) return err.data;
  if (isGlimpseErrorData(err)) return err;
  if (err !== null && typeof err === 'object' && 'data' in err && isGlimpseErrorData(err.data))
    return err.data;
  const raw = err instanceof Error ? err.message : String(err);
  // Electron wraps rejections of ipcRenderer.invoke: "Error invoking remote method 'x': Error: ...".
  const message = raw.replace(/^Error invoking remote method '[^']*': (?:\w*Error: )?/, '').split('\n')[0];
  return { code: 'internal', message: message.trim() || 'unknown error' };
}
