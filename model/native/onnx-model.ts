/**
 * Just enough of the ONNX protobuf format (onnx.proto3) to write single-operator float32 graphs for onnxruntime:
 * a model with one opset import, a graph of nodes with integer attributes, and float inputs/outputs whose
 * dimensions are numbers or symbolic names. Field numbers are those of onnx.proto.
 */

/** An encoded field as its chunks in order: joined once at the end, so a large initializer is copied only once. */
type Field = Uint8Array[];

const utf8 = new TextEncoder();

function varint(value: number | bigint): number[] {
  let v = BigInt(value);
  if (v < 0n) v += 1n << 64n; // two's complement, as protobuf encodes negative int64
  const out: number[] = [];
  do {
    let byte = Number(v & 0x7fn);
    v >>= 7n;
    if (v > 0n) byte |= 0x80;
    out.push(byte);
  } while (v > 0n);
  return out;
}

function concat(parts: readonly Field[]): Field {
  return parts.flat();
}

function size(f: Field): number {
  return f.reduce((n, chunk) => n + chunk.length, 0);
}

function join(f: Field): Uint8Array {
  const out = new Uint8Array(size(f));
  let at = 0;
  for (const chunk of f) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}

/** A varint field (wire type 0). */
function int(field: number, value: number): Field {
  return [Uint8Array.from([...varint(field << 3), ...varint(value)])];
}

/** A length-delimited field (wire type 2): bytes, a string or an embedded message. */
function bytes(field: number, payload: Field | string): Field {
  const data = typeof payload === 'string' ? [utf8.encode(payload)] : payload;
  return [Uint8Array.from([...varint((field << 3) | 2), ...varint(size(data))]), ...data];
}

const FLOAT = 1; // TensorProto.DataType.FLOAT
const ATTRIBUTE_INT = 2; // AttributeProto.AttributeType.INT
const ATTRIBUTE_INTS = 7; // AttributeProto.AttributeType.INTS

export interface OnnxNode {
  op: string;
  inputs: string[];
  outputs: string[];
  /** Integer and integer-list attributes (transA, axes, keepdims …). */
  attributes?: Record<string, number | number[]>;
}

/** A float32 value: its name and dimensions, each a size or a symbolic name. */
export interface OnnxValue {
  name: string;
  dims: (number | string)[];
}

function node(n: OnnxNode, index: number): Field {
  const attributes = Object.entries(n.attributes ?? {}).map(([name, value]) =>
    bytes(
      5,
      typeof value === 'number'
        ? concat([bytes(1, name), int(3, value), int(20, ATTRIBUTE_INT)])
        : concat([bytes(1, name), ...value.map((v) => int(8, v)), int(20, ATTRIBUTE_INTS)]),
    ),
  );
  return bytes(
    1,
    concat([
      ...n.inputs.map((i) => bytes(1, i)),
      ...n.outputs.map((o) => bytes(2, o)),
      bytes(3, `${n.op}_${index}`),
      bytes(4, n.op),
      ...attributes,
    ]),
  );
}

function valueInfo(field: number, v: OnnxValue): Field {
  const dims = v.dims.map((d) => bytes(1, typeof d === 'number' ? int(1, d) : bytes(2, d)));
  const tensorType = concat([int(1, FLOAT), bytes(2, concat(dims))]);
  return bytes(field, concat([bytes(1, v.name), bytes(2, bytes(1, tensorType))]));
}

/** A float32 constant of the graph: onnxruntime pre-packs a constant matrix operand once per session. */
export interface OnnxInitializer {
  name: string;
  dims: number[];
  data: Float32Array;
}

function initializer(t: OnnxInitializer): Field {
  const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  // TensorProto: dims (1), data_type (2), name (8), raw_data (9, little-endian like the host).
  return bytes(
    5,
    concat([...t.dims.map((d) => int(1, d)), int(2, FLOAT), bytes(8, t.name), bytes(9, [raw])]),
  );
}

/** The serialised ModelProto of a graph over the default ONNX domain at `opset`. */
export function onnxModel(
  graph: {
    name: string;
    nodes: OnnxNode[];
    inputs: OnnxValue[];
    outputs: OnnxValue[];
    initializers?: OnnxInitializer[];
  },
  opset = 17,
): Uint8Array {
  const body = concat([
    ...graph.nodes.map(node),
    bytes(2, graph.name),
    ...(graph.initializers ?? []).map(initializer),
    ...graph.inputs.map((v) => valueInfo(11, v)),
    ...graph.outputs.map((v) => valueInfo(12, v)),
  ]);
  return join(
    concat([
      int(1, 8), // ir_version 8 (opset 17's)
      bytes(2, 'glimpse'), // producer_name
      bytes(7, body),
      bytes(8, concat([bytes(1, ''), int(2, opset)])),
    ]),
  );
}
