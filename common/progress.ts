/**
 * The one progress event and the one cancellation error of every long job (extraction, training,
 * evaluation, export), shared by the library, the engine, the CLI and the renderer. Node-free.
 */

export interface Progress {
  /** 0…1. */
  fraction: number;
  /** Items per second, with its unit ('frames/s', 'clips/s', 'videos/s'); null before it is known. */
  rate: number | null;
  rateUnit: string;
  /** Seconds left, null before it is known. */
  eta: number | null;
  message: string;
}

/** A job stopped because its caller asked (an aborted AbortSignal); its finished work is kept. */
export class CancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'CancelledError';
  }
}

/**
 * Throws when `signal` is aborted: the abort reason itself when it is a CancelledError (so a caller's
 * message, such as how to resume, reaches the user), else a CancelledError carrying its message.
 */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (!signal?.aborted) return;
  throw asCancelled(signal.reason);
}

/** The abort reason of a signal as a CancelledError. */
export function asCancelled(reason: unknown): CancelledError {
  if (reason instanceof CancelledError) return reason;
  if (reason instanceof Error && reason.name !== 'AbortError') return new CancelledError(reason.message);
  return new CancelledError();
}

/** Remaining seconds from a pace, or null while the pace is unknown. */
export function etaFrom(remaining: number, rate: number | null): number | null {
  return rate !== null && rate > 0 && Number.isFinite(rate) ? remaining / rate : null;
}
