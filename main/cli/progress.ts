/** Progress on the terminal: a redrawn bar on a TTY, a line every few seconds otherwise (logs, CI). */
import type { Progress } from '../../common/progress.ts';

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const r = s % 60;
  return h > 0
    ? `${h}h${String(m).padStart(2, '0')}m`
    : m > 0
      ? `${m}m${String(r).padStart(2, '0')}s`
      : `${r}s`;
}

/** The text after the bar: the job's message, its pace and the time left ('--' while unknown). */
export function progressDetail(p: Progress): string {
  return `${p.message} ${(p.rate ?? 0).toFixed(1)} ${p.rateUnit} ETA ${formatDuration(p.eta ?? NaN)}`;
}

export class ProgressLine {
  private lastPrint = 0;
  private readonly tty: boolean;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly quietIntervalMs = 5000,
  ) {
    this.tty = Boolean(stream.isTTY);
  }

  update(label: string, fraction: number, detail: string): void {
    const now = Date.now();
    const width = 24;
    const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
    const line = `${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${(fraction * 100).toFixed(0).padStart(3)}% ${detail}`;
    if (this.tty) {
      this.stream.write(`\r\x1b[2K${line}`);
    } else if (now - this.lastPrint >= this.quietIntervalMs || fraction >= 1) {
      this.stream.write(`${line}\n`);
      this.lastPrint = now;
    }
  }

  done(message?: string): void {
    if (this.tty) this.stream.write('\r\x1b[2K');
    if (message) this.stream.write(`${message}\n`);
  }
}
