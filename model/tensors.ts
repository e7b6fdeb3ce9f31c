/** Plain host-side arrays, the currency between file formats and the network. */

export interface HostArray {
  shape: number[];
  data: Float32Array;
}

/** Parameters by their reference names (`decoder_Wc_att`, …), in the reference order. */
export type NamedArrays = Map<string, HostArray>;

export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

export function shapesEqual(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
