/**
 * Python pickles of plain data (what the reference `model.npz.pkl` holds): a reader for protocols 0–4
 * (Python 2 `pickle`/`cPickle`, Python 3) and a protocol-2 writer whose output Python 2 and 3 both load.
 * Only dicts, lists, tuples, sets, str/unicode/bytes, int/long, float, bool and None are accepted:
 * class references (GLOBAL, REDUCE, …) are refused, so loading never runs or imitates arbitrary code.
 */

/** What the reader returns: tuples and sets come back as arrays, both int and float as numbers. */
export type PickleData = null | boolean | number | string | PickleData[] | PickleDict;
export interface PickleDict {
  [key: string]: PickleData;
}

/** Marks a number the writer must store as a Python float even when it is integral (e.g. `temperature_inverse: 1.0`). */
export class PyFloat {
  constructor(readonly value: number) {}
}

/** Marks an array the writer must store as a Python tuple rather than a list. */
export class PyTuple {
  constructor(readonly items: PickleInput[]) {}
}

/** What the writer accepts. */
export type PickleInput =
  null | boolean | number | string | PyFloat | PyTuple | PickleInput[] | { [key: string]: PickleInput };

// Opcodes (CPython Lib/pickle.py).
const OP = {
  MARK: 0x28, // (
  STOP: 0x2e, // .
  POP: 0x30, // 0
  POP_MARK: 0x31, // 1
  DUP: 0x32, // 2
  FLOAT: 0x46, // F
  INT: 0x49, // I
  BININT: 0x4a, // J
  BININT1: 0x4b, // K
  LONG: 0x4c, // L
  BININT2: 0x4d, // M
  NONE: 0x4e, // N
  STRING: 0x53, // S
  BINSTRING: 0x54, // T
  SHORT_BINSTRING: 0x55, // U
  UNICODE: 0x56, // V
  BINUNICODE: 0x58, // X
  APPEND: 0x61, // a
  DICT: 0x64, // d
  EMPTY_DICT: 0x7d, // }
  APPENDS: 0x65, // e
  GET: 0x67, // g
  BINGET: 0x68, // h
  LONG_BINGET: 0x6a, // j
  LIST: 0x6c, // l
  EMPTY_LIST: 0x5d, // ]
  PUT: 0x70, // p
  BINPUT: 0x71, // q
  LONG_BINPUT: 0x72, // r
  SETITEM: 0x73, // s
  TUPLE: 0x74, // t
  EMPTY_TUPLE: 0x29, // )
  SETITEMS: 0x75, // u
  BINFLOAT: 0x47, // G
  PROTO: 0x80,
  TUPLE1: 0x85,
  TUPLE2: 0x86,
  TUPLE3: 0x87,
  NEWTRUE: 0x88,
  NEWFALSE: 0x89,
  LONG1: 0x8a,
  LONG4: 0x8b,
  BINBYTES: 0x42, // B
  SHORT_BINBYTES: 0x43, // C
  SHORT_BINUNICODE: 0x8c,
  BINUNICODE8: 0x8d,
  BINBYTES8: 0x8e,
  EMPTY_SET: 0x8f,
  ADDITEMS: 0x90,
  FROZENSET: 0x91,
  MEMOIZE: 0x94,
  FRAME: 0x95,
} as const;

/** Opcodes that build objects from classes: known, valid, but never accepted here. */
const OBJECT_OPCODES: Record<number, string> = {
  0x50: 'PERSID',
  0x51: 'BINPERSID',
  0x52: 'REDUCE',
  0x62: 'BUILD',
  0x63: 'GLOBAL',
  0x69: 'INST',
  0x6f: 'OBJ',
  0x81: 'NEWOBJ',
  0x82: 'EXT1',
  0x83: 'EXT2',
  0x84: 'EXT4',
  0x92: 'NEWOBJ_EX',
  0x93: 'STACK_GLOBAL',
  0x96: 'BYTEARRAY8',
  0x97: 'NEXT_BUFFER',
  0x98: 'READONLY_BUFFER',
};

const utf8Strict = new TextDecoder('utf-8', { fatal: true });
const latin1 = new TextDecoder('latin1');

/** Python 2 `str` and Python 3 `bytes`: UTF-8 when they are valid UTF-8, else one char per byte. */
function decodeByteString(bytes: Uint8Array): string {
  try {
    return utf8Strict.decode(bytes);
  } catch {
    return latin1.decode(bytes);
  }
}

class PickleError extends Error {}

class Unpickler {
  private pos = 0;
  private stack: PickleData[] = [];
  private marks: number[] = [];
  private readonly memo = new Map<number, PickleData>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private fail(message: string): never {
    throw new PickleError(message);
  }

  private need(n: number): number {
    if (n < 0 || this.pos + n > this.bytes.length) {
      this.fail(`truncated at offset ${this.pos} (needs ${n} more bytes)`);
    }
    const at = this.pos;
    this.pos += n;
    return at;
  }

  private u8(): number {
    return this.bytes[this.need(1)];
  }
  private u16(): number {
    return this.view.getUint16(this.need(2), true);
  }
  private i32(): number {
    return this.view.getInt32(this.need(4), true);
  }
  private u32(): number {
    return this.view.getUint32(this.need(4), true);
  }
  private u64(): number {
    const at = this.need(8);
    const v = this.view.getBigUint64(at, true);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`length ${v} too large at offset ${at}`);
    return Number(v);
  }
  private take(n: number): Uint8Array {
    const at = this.need(n);
    return this.bytes.subarray(at, at + n);
  }
  /** A protocol-0 text argument, up to (not including) the newline. */
  private line(): string {
    const end = this.bytes.indexOf(0x0a, this.pos);
    if (end < 0) this.fail(`truncated at offset ${this.pos} (unterminated text argument)`);
    const text = latin1.decode(this.bytes.subarray(this.pos, end));
    this.pos = end + 1;
    return text;
  }

  private push(v: PickleData): void {
    this.stack.push(v);
  }
  private pop(): PickleData {
    if (this.stack.length === 0 || this.stack.length <= (this.marks.at(-1) ?? -1)) {
      this.fail(`stack underflow at offset ${this.pos}`);
    }
    return this.stack.pop() as PickleData;
  }
  private top(): PickleData {
    if (this.stack.length === 0) this.fail(`stack underflow at offset ${this.pos}`);
    return this.stack[this.stack.length - 1];
  }
  /** Pops everything above the topmost MARK, and the mark. */
  private popMark(): PickleData[] {
    const m = this.marks.pop();
    if (m === undefined) this.fail(`missing MARK at offset ${this.pos}`);
    return this.stack.splice(m);
  }

  private toSafeInt(v: bigint): number {
    if (v > BigInt(Number.MAX_SAFE_INTEGER) || v < BigInt(Number.MIN_SAFE_INTEGER)) {
      this.fail(`integer ${v} at offset ${this.pos} is too large`);
    }
    return Number(v);
  }

  private littleEndianSigned(bytes: Uint8Array): number {
    let v = 0n;
    for (let i = bytes.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(bytes[i]);
    if (bytes.length > 0 && bytes[bytes.length - 1] & 0x80) v -= 1n << BigInt(8 * bytes.length);
    return this.toSafeInt(v);
  }

  private parseIntText(text: string): number {
    const t = text.trim().replace(/L$/, '');
    if (!/^[+-]?\d+$/.test(t)) this.fail(`bad integer '${text}' at offset ${this.pos}`);
    return this.toSafeInt(BigInt(t));
  }

  private parseFloatText(text: string): number {
    const t = text.trim();
    const special: Record<string, number> = { inf: Infinity, '-inf': -Infinity, nan: NaN };
    if (t in special) return special[t];
    const v = Number(t);
    if (t === '' || Number.isNaN(v)) this.fail(`bad float '${text}' at offset ${this.pos}`);
    return v;
  }

  /** Decodes a Python string literal as `repr(str)` writes it (protocol 0 STRING). */
  private parseStringLiteral(text: string): string {
    const q = text[0];
    if (text.length < 2 || (q !== "'" && q !== '"') || text[text.length - 1] !== q) {
      this.fail(`bad string literal at offset ${this.pos}`);
    }
    const body = text.slice(1, -1);
    const out: number[] = [];
    const simple: Record<string, number> = {
      '\\': 0x5c,
      "'": 0x27,
      '"': 0x22,
      n: 0x0a,
      r: 0x0d,
      t: 0x09,
      a: 0x07,
      b: 0x08,
      f: 0x0c,
      v: 0x0b,
    };
    for (let i = 0; i < body.length; i++) {
      const c = body[i];
      if (c !== '\\') {
        out.push(body.charCodeAt(i) & 0xff);
        continue;
      }
      const e = body[++i];
      if (e === undefined) this.fail(`bad escape in string literal at offset ${this.pos}`);
      if (e in simple) out.push(simple[e]);
      else if (e === 'x') {
        const hex = body.slice(i + 1, i + 3);
        if (!/^[0-9a-fA-F]{2}$/.test(hex)) this.fail(`bad \\x escape at offset ${this.pos}`);
        out.push(parseInt(hex, 16));
        i += 2;
      } else if (/[0-7]/.test(e)) {
        const oct = /^[0-7]{1,3}/.exec(body.slice(i))![0];
        out.push(parseInt(oct, 8) & 0xff);
        i += oct.length - 1;
      } else {
        out.push(0x5c, body.charCodeAt(i) & 0xff); // Python keeps unknown escapes verbatim
      }
    }
    return decodeByteString(Uint8Array.from(out));
  }

  /** Decodes `raw-unicode-escape` (protocol 0 UNICODE): latin-1 text with \uXXXX / \UXXXXXXXX escapes. */
  private parseRawUnicode(text: string): string {
    return text.replace(/\\u([0-9a-fA-F]{4})|\\U([0-9a-fA-F]{8})/g, (_m, u4?: string, u8?: string) => {
      const cp = parseInt((u4 ?? u8) as string, 16);
      if (cp > 0x10ffff) this.fail(`bad \\U escape at offset ${this.pos}`);
      return String.fromCodePoint(cp);
    });
  }

  private setItems(dict: PickleData, items: PickleData[]): void {
    if (dict === null || typeof dict !== 'object' || Array.isArray(dict)) {
      this.fail(`SETITEM(S) on a non-dict at offset ${this.pos}`);
    }
    if (items.length % 2 !== 0) this.fail(`odd number of dict items at offset ${this.pos}`);
    for (let i = 0; i < items.length; i += 2) {
      const key = items[i];
      if (typeof key !== 'string') {
        this.fail(
          `dict key of type ${key === null ? 'None' : typeof key} at offset ${this.pos} (only string keys are supported)`,
        );
      }
      Object.defineProperty(dict, key, {
        value: items[i + 1],
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
  }

  private appendItems(list: PickleData, items: PickleData[]): void {
    if (!Array.isArray(list)) this.fail(`APPEND(S) on a non-list at offset ${this.pos}`);
    list.push(...items);
  }

  private newDict(): PickleDict {
    return Object.create(null) as PickleDict;
  }

  private memoGet(key: number): PickleData {
    if (!this.memo.has(key)) this.fail(`memo key ${key} not found at offset ${this.pos}`);
    return this.memo.get(key) as PickleData;
  }

  run(): PickleData {
    for (;;) {
      const at = this.pos;
      const op = this.u8();
      switch (op) {
        case OP.PROTO: {
          const proto = this.u8();
          if (proto > 5) this.fail(`unsupported protocol ${proto}`);
          break;
        }
        case OP.FRAME:
          this.u64(); // frame length: only a read-ahead hint
          break;
        case OP.STOP:
          return this.pop();
        case OP.MARK:
          this.marks.push(this.stack.length);
          break;
        case OP.POP:
          // As CPython: POP with nothing above the topmost mark discards the mark.
          if (this.marks.length > 0 && this.stack.length === this.marks.at(-1)) this.popMark();
          else this.pop();
          break;
        case OP.POP_MARK:
          this.popMark();
          break;
        case OP.DUP:
          this.push(this.top());
          break;
        case OP.NONE:
          this.push(null);
          break;
        case OP.NEWTRUE:
          this.push(true);
          break;
        case OP.NEWFALSE:
          this.push(false);
          break;
        case OP.INT: {
          const t = this.line();
          // Protocol 0 writes True/False as I01/I00.
          this.push(t === '01' ? true : t === '00' ? false : this.parseIntText(t));
          break;
        }
        case OP.LONG:
          this.push(this.parseIntText(this.line()));
          break;
        case OP.BININT:
          this.push(this.i32());
          break;
        case OP.BININT1:
          this.push(this.u8());
          break;
        case OP.BININT2:
          this.push(this.u16());
          break;
        case OP.LONG1:
          this.push(this.littleEndianSigned(this.take(this.u8())));
          break;
        case OP.LONG4: {
          const n = this.i32();
          if (n < 0) this.fail(`negative LONG4 length at offset ${at}`);
          this.push(this.littleEndianSigned(this.take(n)));
          break;
        }
        case OP.FLOAT:
          this.push(this.parseFloatText(this.line()));
          break;
        case OP.BINFLOAT:
          this.push(this.view.getFloat64(this.need(8), false));
          break;
        case OP.STRING:
          this.push(this.parseStringLiteral(this.line().trimEnd()));
          break;
        case OP.BINSTRING: {
          const n = this.i32();
          if (n < 0) this.fail(`negative BINSTRING length at offset ${at}`);
          this.push(decodeByteString(this.take(n)));
          break;
        }
        case OP.SHORT_BINSTRING:
        case OP.SHORT_BINBYTES:
          this.push(decodeByteString(this.take(this.u8())));
          break;
        case OP.BINBYTES:
          this.push(decodeByteString(this.take(this.u32())));
          break;
        case OP.BINBYTES8:
          this.push(decodeByteString(this.take(this.u64())));
          break;
        case OP.UNICODE:
          this.push(this.parseRawUnicode(this.line()));
          break;
        case OP.BINUNICODE:
          this.push(this.utf8(this.take(this.u32()), at));
          break;
        case OP.SHORT_BINUNICODE:
          this.push(this.utf8(this.take(this.u8()), at));
          break;
        case OP.BINUNICODE8:
          this.push(this.utf8(this.take(this.u64()), at));
          break;
        case OP.EMPTY_DICT:
          this.push(this.newDict());
          break;
        case OP.DICT: {
          const d = this.newDict();
          this.setItems(d, this.popMark());
          this.push(d);
          break;
        }
        case OP.SETITEM: {
          const v = this.pop();
          const k = this.pop();
          this.setItems(this.top(), [k, v]);
          break;
        }
        case OP.SETITEMS: {
          const items = this.popMark();
          this.setItems(this.top(), items);
          break;
        }
        case OP.EMPTY_LIST:
        case OP.EMPTY_TUPLE:
        case OP.EMPTY_SET:
          this.push([]);
          break;
        case OP.LIST:
        case OP.TUPLE:
        case OP.FROZENSET:
          this.push(this.popMark());
          break;
        case OP.TUPLE1:
          this.push([this.pop()]);
          break;
        case OP.TUPLE2: {
          const b = this.pop();
          const a = this.pop();
          this.push([a, b]);
          break;
        }
        case OP.TUPLE3: {
          const c = this.pop();
          const b = this.pop();
          const a = this.pop();
          this.push([a, b, c]);
          break;
        }
        case OP.APPEND: {
          const v = this.pop();
          this.appendItems(this.top(), [v]);
          break;
        }
        case OP.APPENDS:
        case OP.ADDITEMS: {
          const items = this.popMark();
          this.appendItems(this.top(), items);
          break;
        }
        case OP.PUT:
          this.memo.set(this.parseIntText(this.line()), this.top());
          break;
        case OP.BINPUT:
          this.memo.set(this.u8(), this.top());
          break;
        case OP.LONG_BINPUT:
          this.memo.set(this.u32(), this.top());
          break;
        case OP.MEMOIZE:
          this.memo.set(this.memo.size, this.top());
          break;
        case OP.GET:
          this.push(this.memoGet(this.parseIntText(this.line())));
          break;
        case OP.BINGET:
          this.push(this.memoGet(this.u8()));
          break;
        case OP.LONG_BINGET:
          this.push(this.memoGet(this.u32()));
          break;
        default: {
          const name = OBJECT_OPCODES[op];
          if (name === 'GLOBAL') {
            const what = `${this.line()}.${this.line()}`;
            this.fail(
              `refusing to load Python object ${what} at offset ${at} (only plain data is supported)`,
            );
          }
          if (name) this.fail(`refusing opcode ${name} at offset ${at} (only plain data is supported)`);
          this.fail(`unknown opcode 0x${op.toString(16).padStart(2, '0')} at offset ${at}`);
        }
      }
    }
  }

  private utf8(bytes: Uint8Array, at: number): string {
    try {
      return utf8Strict.decode(bytes);
    } catch {
      this.fail(`invalid UTF-8 in unicode string at offset ${at}`);
    }
  }
}

/** Parses a pickle of plain data; `source` names the file in the one-line error messages. */
export function parsePickle(bytes: Uint8Array, source: string): PickleData {
  try {
    return new Unpickler(bytes).run();
  } catch (e) {
    if (e instanceof PickleError) throw new Error(`${source}: corrupt pickle: ${e.message}`);
    throw e;
  }
}

class ByteSink {
  private buf = new Uint8Array(256);
  private len = 0;
  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    const next = new Uint8Array(Math.max(this.buf.length * 2, this.len + n));
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }
  byte(...bs: number[]): void {
    this.reserve(bs.length);
    for (const b of bs) this.buf[this.len++] = b;
  }
  bytes(bs: Uint8Array): void {
    this.reserve(bs.length);
    this.buf.set(bs, this.len);
    this.len += bs.length;
  }
  u32(v: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setUint32(this.len, v, true);
    this.len += 4;
  }
  i32(v: number): void {
    this.reserve(4);
    new DataView(this.buf.buffer).setInt32(this.len, v, true);
    this.len += 4;
  }
  f64be(v: number): void {
    this.reserve(8);
    new DataView(this.buf.buffer).setFloat64(this.len, v, false);
    this.len += 8;
  }
  result(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

const utf8Encoder = new TextEncoder();

function writeInt(out: ByteSink, v: number): void {
  if (v >= 0 && v < 0x100) out.byte(OP.BININT1, v);
  else if (v >= 0 && v < 0x10000) out.byte(OP.BININT2, v & 0xff, v >> 8);
  else if (v >= -0x80000000 && v <= 0x7fffffff) {
    out.byte(OP.BININT);
    out.i32(v);
  } else {
    // LONG1: minimal little-endian two's complement.
    let big = BigInt(v);
    const bytes: number[] = [];
    for (;;) {
      bytes.push(Number(big & 0xffn));
      big >>= 8n;
      const signBit = (bytes[bytes.length - 1] & 0x80) !== 0;
      if ((big === 0n && !signBit) || (big === -1n && signBit)) break;
    }
    out.byte(OP.LONG1, bytes.length, ...bytes);
  }
}

function writeString(out: ByteSink, s: string): void {
  // ASCII as a byte string: Python 2 gets a native `str`, Python 3 decodes it (ASCII) to `str`.
  if (/^[\x00-\x7f]*$/.test(s)) {
    const bytes = Uint8Array.from(s, (c) => c.charCodeAt(0));
    if (bytes.length < 0x100) out.byte(OP.SHORT_BINSTRING, bytes.length);
    else {
      out.byte(OP.BINSTRING);
      out.u32(bytes.length);
    }
    out.bytes(bytes);
  } else {
    const bytes = utf8Encoder.encode(s);
    out.byte(OP.BINUNICODE);
    out.u32(bytes.length);
    out.bytes(bytes);
  }
}

function writeValue(out: ByteSink, v: PickleInput, depth: number): void {
  if (depth > 100) throw new Error('pickle: value nested too deeply');
  if (v === null) out.byte(OP.NONE);
  else if (v === true) out.byte(OP.NEWTRUE);
  else if (v === false) out.byte(OP.NEWFALSE);
  else if (typeof v === 'number') {
    if (Number.isSafeInteger(v)) writeInt(out, v);
    else {
      out.byte(OP.BINFLOAT);
      out.f64be(v);
    }
  } else if (typeof v === 'string') writeString(out, v);
  else if (v instanceof PyFloat) {
    out.byte(OP.BINFLOAT);
    out.f64be(v.value);
  } else if (v instanceof PyTuple) {
    if (v.items.length === 0) out.byte(OP.EMPTY_TUPLE);
    else {
      out.byte(OP.MARK);
      for (const item of v.items) writeValue(out, item, depth + 1);
      out.byte(OP.TUPLE);
    }
  } else if (Array.isArray(v)) {
    out.byte(OP.EMPTY_LIST);
    if (v.length > 0) {
      out.byte(OP.MARK);
      for (const item of v) writeValue(out, item, depth + 1);
      out.byte(OP.APPENDS);
    }
  } else {
    const entries = Object.entries(v);
    out.byte(OP.EMPTY_DICT);
    if (entries.length > 0) {
      out.byte(OP.MARK);
      for (const [key, value] of entries) {
        writeString(out, key);
        writeValue(out, value, depth + 1);
      }
      out.byte(OP.SETITEMS);
    }
  }
}

/** Encodes plain data as a protocol-2 pickle (no memo: the data holds no shared references). */
export function encodePickle(value: PickleInput): Uint8Array {
  const out = new ByteSink();
  out.byte(OP.PROTO, 2);
  writeValue(out, value, 0);
  out.byte(OP.STOP);
  return out.result();
}
