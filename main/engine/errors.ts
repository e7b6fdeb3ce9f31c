/** The engine's one error type: what every transport sends as `{ code, message, file? }`. */
import { CancelledError } from '../../common/progress.ts';
import type { GlimpseErrorCode, GlimpseErrorData } from './api.ts';

export class GlimpseError extends Error {
  readonly code: GlimpseErrorCode;
  readonly file?: string;
  constructor(code: GlimpseErrorCode, message: string, file?: string) {
    super(message);
    this.name = 'GlimpseError';
    this.code = code;
    if (file !== undefined) this.file = file;
  }
  toData(): GlimpseErrorData {
    return this.file === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, file: this.file };
  }
}

/** Any thrown value as error data: GlimpseErrors keep their code, the rest become 'internal' with one line. */
export function toErrorData(err: unknown): GlimpseErrorData {
  if (err instanceof GlimpseError) return err.toData();
  if (err instanceof CancelledError) return { code: 'cancelled', message: err.message };
  if (err instanceof Error && err.name === 'AbortError') return { code: 'cancelled', message: 'cancelled' };
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
  return { code: 'internal', message: message || 'unknown error' };
}
