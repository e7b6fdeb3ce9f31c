/**
 * The training-loss line of the Train view's run curves (every logged batch: the one curve that reaches
 * 10,000 points), shared by RunCurves.svelte and the render bench so both draw the same path.
 */
import { line } from 'd3';
import type { RunPoint } from '../../../main/engine/api.ts';

export type BatchPoint = Extract<RunPoint, { kind: 'batch' }>;

/** A batch's place on the epoch axis: epoch e's last batch ends at e + 1. */
export const batchAt = (p: BatchPoint): number => p.epoch + (p.batch + 1) / p.batches;

/** The SVG path of the batch losses on these scales; null (no `d` attribute) when there are none. */
export function batchLossPath(
  batches: readonly BatchPoint[],
  x: (epoch: number) => number,
  y: (loss: number) => number,
): string | null {
  return line<BatchPoint>()
    .x((p) => x(batchAt(p)))
    .y((p) => y(p.loss))(batches);
}
