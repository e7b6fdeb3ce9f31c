/**
 * A file as a fetch Response for Electron's protocol handlers (app:// for the renderer, glimpse-media://
 * for videos), with the same Range answers as browser mode. Runs under plain Node too, so it is tested
 * there.
 */
import { createReadStream, promises as fs } from 'node:fs';
import { Readable } from 'node:stream';
import { parseRange, rangeResponseHead } from '../server/range.ts';

export async function fileResponse(
  path: string,
  contentType: string,
  request: { method: string; headers: Headers },
  extraHeaders: Record<string, string> = {},
): Promise<Response> {
  const { size } = await fs.stat(path);
  const answer = parseRange(request.headers.get('range'), size);
  const head = rangeResponseHead(answer, size);
  const headers = { ...extraHeaders, ...head.headers, 'Content-Type': contentType };
  if (request.method === 'HEAD' || answer.kind === 'unsatisfiable' || size === 0)
    return new Response(null, { status: head.status, headers });
  const stream =
    answer.kind === 'partial'
      ? createReadStream(path, { start: answer.start, end: answer.end })
      : createReadStream(path);
  return new Response(Readable.toWeb(stream) as ReadableStream<Uint8Array>, { status: head.status, headers });
}

export function textResponse(
  status: number,
  text: string,
  extraHeaders: Record<string, string> = {},
): Response {
  return new Response(`${text}\n`, {
    status,
    headers: { ...extraHeaders, 'Content-Type': 'text/plain; charset=utf-8' },
  });
}
