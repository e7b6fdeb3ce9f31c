/**
 * A training run's JSON-lines log (as runTraining writes it) read into curve points, incrementally: the
 * engine feeds what was appended since the last read. A resumed run logs `resume` after the last finished
 * epoch: the points of the epoch it cut short are dropped, as the run trains that epoch again.
 */
import type { JsonValue, RunPoint } from './api.ts';

type Json = { [key: string]: JsonValue };

export interface RunLogState {
  points: RunPoint[];
  /** The first `start` entry: options and settings in full. */
  first: { options: Json; settings: Json } | null;
  /** Planned epochs, from the latest `start` entry. */
  epochs: number | null;
  multilabel: boolean;
  /** A `done` entry came after the latest `start`. */
  done: boolean;
}

function num(value: JsonValue | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function pointOf(entry: Json): RunPoint | null {
  const epoch = num(entry.epoch);
  if (epoch === null) return null;
  if (entry.kind === 'batch') {
    const [batch, batches, loss, clipsPerS, etaS] = ['batch', 'batches', 'loss', 'clipsPerS', 'etaS'].map(
      (k) => num(entry[k]),
    );
    if (batch === null || batches === null || loss === null) return null;
    return { kind: 'batch', epoch, batch, batches, loss, clipsPerS: clipsPerS ?? 0, etaS: etaS ?? 0 };
  }
  if (entry.kind === 'epoch') {
    const trainLoss = num(entry.trainLoss);
    const validScore = num(entry.validScore);
    if (trainLoss === null || validScore === null) return null;
    return {
      kind: 'epoch',
      epoch,
      trainLoss,
      validScore,
      best: entry.best === true,
      seconds: num(entry.seconds) ?? 0,
    };
  }
  return null;
}

export class RunLogReader {
  readonly state: RunLogState = { points: [], first: null, epochs: null, multilabel: false, done: false };
  private partial = '';

  /**
   * Adds appended log text; returns the lowest point index that changed (points.length when none did).
   * A line cut off at the end waits for the rest; an unreadable line is skipped.
   */
  feed(text: string): number {
    const lines = (this.partial + text).split('\n');
    this.partial = lines.pop() ?? '';
    let from = this.state.points.length;
    for (const line of lines) {
      if (line.trim() === '') continue;
      let entry: unknown;
      try {
        entry = JSON.parse(line);
      } catch {
        continue;
      }
      if (entry && typeof entry === 'object' && !Array.isArray(entry))
        from = Math.min(from, this.apply(entry as Json));
    }
    return from;
  }

  private apply(entry: Json): number {
    const s = this.state;
    const keep = s.points.length;
    if (entry.kind === 'start') {
      const options = entry.options as Json | undefined;
      const settings = entry.settings as Json | undefined;
      if (options && settings && !s.first) s.first = { options, settings };
      s.epochs = num(settings?.epochs) ?? s.epochs;
      s.multilabel = options?.multilabel === true;
      s.done = false;
      return keep;
    }
    if (entry.kind === 'done') {
      s.done = true;
      return keep;
    }
    if (entry.kind === 'resume') {
      const finished = num(entry.epoch) ?? 0;
      const cut = s.points.findIndex((p) => (p.kind === 'batch' ? p.epoch >= finished : p.epoch > finished));
      if (cut < 0) return keep;
      s.points.length = cut;
      return cut;
    }
    const point = pointOf(entry);
    if (point) s.points.push(point);
    return keep;
  }
}

/** Finished epochs and the best one (ties to the later epoch, as training picks it). */
export function epochSummary(points: readonly RunPoint[]): {
  epochsDone: number;
  bestEpoch: number | null;
  bestScore: number | null;
} {
  let epochsDone = 0;
  let bestEpoch: number | null = null;
  let bestScore: number | null = null;
  for (const p of points) {
    if (p.kind !== 'epoch') continue;
    epochsDone = Math.max(epochsDone, p.epoch);
    if (bestScore === null || p.validScore >= bestScore) {
      bestScore = p.validScore;
      bestEpoch = p.epoch;
    }
  }
  return { epochsDone, bestEpoch, bestScore };
}
