/**
 * Conversion between dropout conventions. Non-inverted dropout (the reference) multiplies dropped-out
 * activations by 0.5 at test time; inverted dropout leaves them alone. Scaling every weight matrix that
 * consumes a dropped-out activation by 2 (or by 0.5 the other way) keeps test-time predictions identical.
 */
import type { DropoutConvention, ModelOptions } from '../../common/options.ts';
import { lstmLayerName } from '../params.ts';
import type { NamedArrays } from '../tensors.ts';
import type { Checkpoint } from './types.ts';

/** The weight matrices whose input passes through dropout (original-code.md §1.6). */
export function dropoutConsumers(o: ModelOptions): string[] {
  const names: string[] = [];
  // Each extra init layer's output is dropped; it feeds the next init layer, or finally h0/c0 of every LSTM layer.
  for (let k = 2; k < o.nLayersInit; k++) names.push(`ff_init_${k}_W`);
  if (o.nLayersInit > 1) {
    for (let layer = 0; layer < o.lstmLayers; layer++) {
      names.push(`${lstmLayerName('ff_state', layer)}_W`, `${lstmLayerName('ff_memory', layer)}_W`);
    }
  }
  // dropout(h_t) feeds ff_logit_lstm; the dropped tanh output feeds ff_logit_h1 (or ff_logit), and so on.
  names.push('ff_logit_lstm_W');
  for (let k = 1; k < o.nLayersOut; k++) names.push(`ff_logit_h${k}_W`);
  names.push('ff_logit_W');
  return names;
}

/** Returns `ckpt` in the requested dropout convention; arrays that change are copied, the rest shared. */
export function toDropoutConvention(ckpt: Checkpoint, target: DropoutConvention): Checkpoint {
  const from = ckpt.options.dropout;
  if (from === target) return ckpt;
  const options: ModelOptions = { ...ckpt.options, dropout: target };
  if (!ckpt.options.useDropout) return { ...ckpt, options }; // no dropout layers: nothing to rescale
  const factor = from === 'inverted' ? 2 : 0.5;
  const params: NamedArrays = new Map(ckpt.params);
  for (const name of dropoutConsumers(ckpt.options)) {
    const p = params.get(name);
    if (!p) throw new Error(`parameter ${name} is missing`);
    params.set(name, { shape: [...p.shape], data: p.data.map((v) => v * factor) });
  }
  return { ...ckpt, options, params };
}
