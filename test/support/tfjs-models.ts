/**
 * Small TF.js models written to folders exactly as the converter and tfjs-layers lay them out (model.json
 * plus a weight shard), for tests of backbone loading: a graph model and a layers model.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { serializeLayersModel } from '../../main/features/builtin-backbone.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const shape = (dims: number[]) => ({ dim: dims.map((d) => ({ size: String(d) })) });

/**
 * Graph model: input (−1, 16, 16, 3) → 'conv' (3×3, stride 4, 5 channels, SAME) → 'relu' (4×4×5)
 * → 'pooled' (mean over height and width: a rank-2 output, not a map).
 */
export async function writeGraphModel(dir: string): Promise<{ kernel: Float32Array }> {
  await mkdir(dir, { recursive: true });
  const kernel = Float32Array.from({ length: 3 * 3 * 3 * 5 }, (_, i) => Math.sin(i * 0.7) * 0.5);
  const axes = Int32Array.from([1, 2]);
  const float = { type: 'DT_FLOAT' };
  const nodes = [
    { name: 'input', op: 'Placeholder', attr: { dtype: float, shape: { shape: shape([-1, 16, 16, 3]) } } },
    {
      name: 'kernel',
      op: 'Const',
      attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: shape([3, 3, 3, 5]) } }, dtype: float },
    },
    {
      name: 'axes',
      op: 'Const',
      attr: {
        value: { tensor: { dtype: 'DT_INT32', tensorShape: shape([2]) } },
        dtype: { type: 'DT_INT32' },
      },
    },
    {
      name: 'conv',
      op: 'Conv2D',
      input: ['input', 'kernel'],
      attr: {
        T: float,
        strides: { list: { i: ['1', '4', '4', '1'] } },
        padding: { s: b64('SAME') },
        data_format: { s: b64('NHWC') },
        dilations: { list: { i: ['1', '1', '1', '1'] } },
      },
    },
    { name: 'relu', op: 'Relu', input: ['conv'], attr: { T: float } },
    {
      name: 'pooled',
      op: 'Mean',
      input: ['relu', 'axes'],
      attr: { T: float, Tidx: { type: 'DT_INT32' }, keep_dims: { b: false } },
    },
  ];
  const json = {
    format: 'graph-model',
    generatedBy: 'glimpse tests',
    convertedBy: 'hand-written',
    modelTopology: { node: nodes, library: {}, versions: { producer: 1 } },
    weightsManifest: [
      {
        paths: ['group1-shard1of1.bin'],
        weights: [
          { name: 'kernel', shape: [3, 3, 3, 5], dtype: 'float32' },
          { name: 'axes', shape: [2], dtype: 'int32' },
        ],
      },
    ],
  };
  await writeFile(path.join(dir, 'model.json'), JSON.stringify(json));
  const bin = Buffer.concat([Buffer.from(kernel.buffer), Buffer.from(axes.buffer)]);
  await writeFile(path.join(dir, 'group1-shard1of1.bin'), bin);
  return { kernel };
}

/** Layers model: input 24×24×3 → 'conv' (4×4, stride 4, 6 channels) 6×6×6 → 'wide' (1×2 pool) 6×3×6 → 'flat'. */
export async function writeLayersModel(dir: string): Promise<void> {
  const model = tf.sequential();
  model.add(
    tf.layers.conv2d({ name: 'conv', inputShape: [24, 24, 3], filters: 6, kernelSize: 4, strides: 4 }),
  );
  model.add(tf.layers.averagePooling2d({ name: 'wide', poolSize: [1, 2], strides: [1, 2] }));
  model.add(tf.layers.flatten({ name: 'flat' }));
  const conv = model.getLayer('conv');
  conv.setWeights([
    tf.tensor4d(
      Float32Array.from({ length: 4 * 4 * 3 * 6 }, (_, i) => Math.cos(i * 0.3) * 0.2),
      [4, 4, 3, 6],
    ),
    tf.tensor1d(Float32Array.from({ length: 6 }, (_, i) => i * 0.01)),
  ]);
  const { modelJson, weights } = await serializeLayersModel(model, 'weights.bin');
  model.dispose();
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'model.json'), modelJson);
  await writeFile(path.join(dir, 'weights.bin'), weights);
}
