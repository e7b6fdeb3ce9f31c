/** Short human forms of the numbers the UI writes next to progress bars and paths. */
import type { JobProgress } from '../../../main/engine/api.ts';

export function duration(seconds: number | null): string {
  if (seconds === null || !Number.isFinite(seconds)) return '—';
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ${String(s % 60).padStart(2, '0')} s`;
  return `${Math.floor(m / 60)} h ${String(m % 60).padStart(2, '0')} min`;
}

export function rate(p: JobProgress): string {
  if (p.rate === null || !Number.isFinite(p.rate)) return '';
  const digits = p.rate >= 100 ? 0 : p.rate >= 10 ? 1 : 2;
  return `${p.rate.toFixed(digits)} ${p.rateUnit}`;
}

export function percent(fraction: number): string {
  return `${(Math.max(0, Math.min(1, fraction)) * 100).toFixed(0)}%`;
}

/** The last path component, for labels (the full path goes in the title). */
export function baseName(path: string): string {
  const parts = path.split(/[\\/]/).filter(Boolean);
  return parts[parts.length - 1] ?? path;
}

export function probability(p: number): string {
  return p.toFixed(3);
}
