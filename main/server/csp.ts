/**
 * The Content-Security-Policy and the other security headers both front ends send (browser mode on every
 * HTTP response, Electron from its app:// protocol handler): scripts only from the app itself, no plugins,
 * no framing, no base-URL tricks. Only the sources the transport needs are added.
 */
export interface CspSources {
  /** Extra connect-src sources (browser mode: its own ws://HOST:PORT). */
  connect?: string[];
  /** Extra media-src sources (Electron: the glimpse-media: scheme). */
  media?: string[];
  /** Extra img-src sources (Electron: exported images on the glimpse-media: scheme). */
  img?: string[];
}

export function contentSecurityPolicy({ connect = [], media = [], img = [] }: CspSources = {}): string {
  const list = (base: string[], extra: string[]) => [...base, ...extra].join(' ');
  return [
    "default-src 'self'",
    "script-src 'self'",
    // Svelte sets style attributes at run time (transitions, positions): inline styles, never inline scripts.
    "style-src 'self' 'unsafe-inline'",
    `img-src ${list(["'self'", 'blob:', 'data:'], img)}`,
    `media-src ${list(["'self'", 'blob:'], media)}`,
    `connect-src ${list(["'self'"], connect)}`,
    "object-src 'none'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** Headers sent with every response besides the CSP. */
export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};
