// Running ffmpeg/ffprobe children: collected output, bounded stderr, one-line failure messages.
import { spawn } from 'node:child_process';
import path from 'node:path';

export interface ToolResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** ffmpeg/ffprobe input or output argument for a local file: absolute and with the `file:` protocol, so that
 * names starting with '-' or containing ':' are not read as options or protocols. */
export function fileArg(file: string): string {
  return `file:${path.resolve(file)}`;
}

/** ffmpeg's quiet preamble reading `file` and keeping only its first video stream. */
export function firstVideoStreamInput(file: string): string[] {
  return ['-hide_banner', '-nostdin', '-v', 'error', '-i', fileArg(file), '-map', '0:v:0'];
}

/** Runs a tool to completion and collects its output (for short runs: probing, listing encoders). */
export function runTool(
  binary: string,
  args: readonly string[],
  options: { signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<ToolResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(binary, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      windowsHide: true,
      signal: options.signal,
      timeout: options.timeoutMs,
      killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => err.push(chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => {
      resolve({
        code,
        signal,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      });
    });
  });
}

/** Keeps the last few non-empty stderr lines of a long-running child (ffmpeg can log thousands). */
export class StderrTail {
  private readonly kept: string[] = [];
  private partial = '';
  private total = 0;

  constructor(private readonly maxLines = 20) {}

  push(chunk: Buffer | string): void {
    const text = this.partial + chunk.toString();
    const parts = text.split(/\r?\n|\r/);
    this.partial = parts.pop() ?? '';
    for (const line of parts) this.add(line);
  }

  /** Kept lines, including an unterminated last one. */
  lines(): string[] {
    return this.partial.trim() ? [...this.kept, this.partial.trim()] : [...this.kept];
  }

  /** Number of non-empty lines seen in all. */
  count(): number {
    return this.total + (this.partial.trim() ? 1 : 0);
  }

  private add(line: string): void {
    const trimmed = line.trim();
    if (!trimmed) return;
    this.total++;
    this.kept.push(trimmed);
    if (this.kept.length > this.maxLines) this.kept.shift();
  }
}

/** The last meaningful stderr line, without ffmpeg's own repetition of the file name. */
export function lastToolLine(file: string, lines: readonly string[]): string {
  const absolute = path.resolve(file);
  for (let i = lines.length - 1; i >= 0; i--) {
    let line = lines[i];
    if (/^Conversion failed!?$/.test(line)) continue;
    for (const prefix of [`file:${absolute}: `, `${absolute}: `, `${file}: `]) {
      if (line.startsWith(prefix)) line = line.slice(prefix.length);
    }
    // "[mpeg4 @ 0x55d2c1c0] Error at MB: 107" → "mpeg4: Error at MB: 107" (addresses differ on every run)
    line = line.replace(/^\[(\S+) @ 0x[0-9a-f]+\] /, '$1: ');
    if (line) return line;
  }
  return '';
}

/** One-line description of why ffmpeg could not read `file`, from its stderr. */
export function describeInputFailure(file: string, lines: readonly string[], fallback: string): string {
  const last = lastToolLine(file, lines);
  const all = lines.join('\n');
  if (/matches no streams|does not contain any stream|Output file #0 does not contain/.test(all)) {
    return `${file}: no video stream`;
  }
  if (/moov atom not found/.test(all)) {
    return `${file}: incomplete MP4/MOV, its index is missing (moov atom not found: truncated or still being written)`;
  }
  if (/Invalid data found when processing input|could not find codec parameters/i.test(all)) {
    return `${file}: not a readable video (${last || 'invalid data'})`;
  }
  return `${file}: ${fallback}${last ? ` (${last})` : ''}`;
}
