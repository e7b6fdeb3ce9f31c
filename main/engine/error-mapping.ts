/** Library errors (one-line messages naming the file) as GlimpseErrors with the code the API promises. */
import { CancelledError } from '../../common/progress.ts';
import type { GlimpseErrorCode } from './api.ts';
import { GlimpseError } from './errors.ts';

const MISSING = /file not found|no such file|does not exist|ENOENT/i;

/** `err` as a GlimpseError about `file`: missing → not-found, cancelled → cancelled, else `fallback`. */
export function fileError(err: unknown, file: string, fallback: GlimpseErrorCode = 'bad-file'): GlimpseError {
  if (err instanceof GlimpseError) return err;
  const message = (err instanceof Error ? err.message : String(err)).split('\n')[0].trim();
  if (err instanceof CancelledError || (err instanceof Error && err.name === 'AbortError'))
    return new GlimpseError('cancelled', message || 'cancelled', file);
  const named = message.includes(file) ? message : `${file}: ${message}`;
  return new GlimpseError(MISSING.test(message) ? 'not-found' : fallback, named, file);
}

/** Runs `work`, turning what it throws into a GlimpseError about `file`. */
export async function aboutFile<T>(
  file: string,
  work: () => Promise<T>,
  fallback: GlimpseErrorCode = 'bad-file',
): Promise<T> {
  try {
    return await work();
  } catch (err) {
    throw fileError(err, file, fallback);
  }
}
