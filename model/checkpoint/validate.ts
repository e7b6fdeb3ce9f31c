/** Checks a checkpoint's parameters against its options, naming the file in every error. */
import type { ModelOptions } from '../../common/options.ts';
import { checkParameters, parameterSpecs } from '../params.ts';
import type { NamedArrays } from '../tensors.ts';

/** Names that belong to some configuration of the model (and so signal options that do not match the arrays). */
export function looksLikeParameter(name: string): boolean {
  return name.startsWith('ff_') || name.startsWith('decoder_');
}

/**
 * Returns the parameters the options call for, in the reference order and with the spec's shapes
 * (the reference stores scalars and (1,) vectors interchangeably). A missing or misshapen parameter,
 * or a model parameter the options do not use, is an error naming `file`.
 */
export function validatedParameters(arrays: NamedArrays, options: ModelOptions, file: string): NamedArrays {
  try {
    checkParameters(arrays, options);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  const specs = parameterSpecs(options);
  const expected = new Set(specs.map((s) => s.name));
  for (const name of arrays.keys()) {
    if (looksLikeParameter(name) && !expected.has(name)) {
      throw new Error(`${file}: parameter ${name} is not used by a model with these options`);
    }
  }
  const out: NamedArrays = new Map();
  for (const spec of specs) {
    const p = arrays.get(spec.name)!;
    out.set(spec.name, { shape: [...spec.shape], data: p.data });
  }
  return out;
}
