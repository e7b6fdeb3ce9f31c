/**
 * HTTP byte ranges (RFC 9110 §14) for video files: Chromium seeks a <video> by asking for `bytes=N-`, so
 * both the browser-mode server and Electron's media protocol answer single ranges with 206. A request
 * for several ranges is answered with the whole file, which the RFC allows.
 */
export type RangeAnswer =
  { kind: 'full' } | { kind: 'partial'; start: number; end: number } | { kind: 'unsatisfiable' };

export function parseRange(header: string | null | undefined, size: number): RangeAnswer {
  if (!header) return { kind: 'full' };
  const match = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header);
  // Malformed or multi-range headers are ignored, as the RFC lets a server do.
  if (!match) return { kind: 'full' };
  const [, first, last] = match;
  if (first === '' && last === '') return { kind: 'full' };
  let start: number;
  let end: number;
  if (first === '') {
    // Suffix range: the last N bytes.
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return { kind: 'unsatisfiable' };
    start = Math.max(0, size - suffix);
    end = size - 1;
  } else {
    start = Number(first);
    end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
    if (last !== '' && Number(last) < start) return { kind: 'full' };
  }
  if (start >= size) return { kind: 'unsatisfiable' };
  return { kind: 'partial', start, end };
}

/** Status and headers for a range answer over a file of `size` bytes. */
export function rangeResponseHead(
  answer: RangeAnswer,
  size: number,
): { status: 200 | 206 | 416; headers: Record<string, string> } {
  const headers: Record<string, string> = { 'Accept-Ranges': 'bytes' };
  if (answer.kind === 'unsatisfiable') {
    headers['Content-Range'] = `bytes */${size}`;
    headers['Content-Length'] = '0';
    return { status: 416, headers };
  }
  if (answer.kind === 'partial') {
    headers['Content-Range'] = `bytes ${answer.start}-${answer.end}/${size}`;
    headers['Content-Length'] = String(answer.end - answer.start + 1);
    return { status: 206, headers };
  }
  headers['Content-Length'] = String(size);
  return { status: 200, headers };
}
