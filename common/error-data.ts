/**
 * The error every transport carries, `{ code, message, file? }`, and the one check of its shape, shared by the
 * engine's API types, the Electron preload and the renderer's clients.
 */
export const GLIMPSE_ERROR_CODES = [
  'not-found',
  'bad-file',
  'mismatch',
  'busy',
  'cancelled',
  'bad-request',
  'unauthorized',
  'internal',
] as const;

export type GlimpseErrorCode = (typeof GLIMPSE_ERROR_CODES)[number];

export interface GlimpseErrorData {
  code: GlimpseErrorCode;
  /** One line a researcher can act on, naming the file when there is one. */
  message: string;
  file?: string;
}

export function isGlimpseErrorData(value: unknown): value is GlimpseErrorData {
  if (value === null || typeof value !== 'object') return false;
  const v = value as Record<string, unknown>;
  return (
    typeof v.code === 'string' &&
    (GLIMPSE_ERROR_CODES as readonly string[]).includes(v.code) &&
    typeof v.message === 'string' &&
    (v.file === undefined || typeof v.file === 'string')
  );
}
