import assert from 'node:assert/strict';
import { test } from 'node:test';
import { encodePickle, parsePickle, type PickleData, PyFloat, PyTuple } from './pickle.ts';

/**
 * One dict pickled by Python 2.7.18 (`pickle` protocols 0–2, `cPickle` with -1) and Python 3
 * (protocols 0–4), base64. Source (Python):
 *   shared = [7, 8]
 *   {'ctx_dim': 512, 'dim': 128, 'temperature_inverse': 1.0, 'decay_c': 1e-05, 'use_dropout': True,
 *    'selector': False, 'dictionary': None, 'dataset': 'h2mAP', 'name_u': u'caf\xe9 \u2192', 'big': 2**40,
 *    'neg': -3, 'neg_big': -2**35, 'mid': 70000, 'list': [1, 2.5, 'x'], 'tuple': (1, 'a'),
 *    'nested': {'a': [], 'b': {}, 'c': ()}, 'l1': shared, 'l2': shared, 'quote': 'it\'s "q"\n\\\t',
 *    'inf': float('inf')}
 */
const PYTHON_PICKLES: Record<string, string> = {
  py2_p0:
    'KGRwMApTJ3RlbXBlcmF0dXJlX2ludmVyc2UnCnAxCkYxLjAKc1MnZGltJwpwMgpJMTI4CnNTJ3VzZV9kcm9wb3V0JwpwMwpJMDEKc1MnbmVzdGVkJwpwNAooZHA1ClMnYScKcDYKKGxwNwpzUydjJwpwOAoodHNTJ2InCnA5CihkcDEwCnNzUydkaWN0aW9uYXJ5JwpwMTEKTnNTJ25hbWVfdScKcDEyClZjYWbpIFx1MjE5MgpwMTMKc1MnYmlnJwpwMTQKSTEwOTk1MTE2Mjc3NzYKc1MndHVwbGUnCnAxNQooSTEKZzYKdHAxNgpzUydsaXN0JwpwMTcKKGxwMTgKSTEKYUYyLjUKYVMneCcKcDE5CmFzUydtaWQnCnAyMApJNzAwMDAKc1MnbDEnCnAyMQoobHAyMgpJNwphSTgKYXNTJ2RlY2F5X2MnCnAyMwpGMWUtMDUKc1MncXVvdGUnCnAyNApTJ2l0XCdzICJxIlxuXFxcdCcKcDI1CnNTJ2wyJwpwMjYKZzIyCnNTJ2N0eF9kaW0nCnAyNwpJNTEyCnNTJ2RhdGFzZXQnCnAyOApTJ2gybUFQJwpwMjkKc1MnbmVnJwpwMzAKSS0zCnNTJ2luZicKcDMxCkZpbmYKc1Mnc2VsZWN0b3InCnAzMgpJMDAKc1MnbmVnX2JpZycKcDMzCkktMzQzNTk3MzgzNjgKcy4=',
  py2_p1:
    'fXEAKFUTdGVtcGVyYXR1cmVfaW52ZXJzZXEBRz/wAAAAAAAAVQNkaW1xAkuAVQt1c2VfZHJvcG91dHEDSTAxClUGbmVzdGVkcQR9cQUoVQFhcQZdcQdVAWNxCClVAWJxCX1xCnVVCmRpY3Rpb25hcnlxC05VBm5hbWVfdXEMWAkAAABjYWbDqSDihpJxDVUDYmlncQ5JMTA5OTUxMTYyNzc3NgpVBXR1cGxlcQ8oSwFoBnRxEFUEbGlzdHERXXESKEsBR0AEAAAAAAAAVQF4cRNlVQNtaWRxFEpwEQEAVQJsMXEVXXEWKEsHSwhlVQdkZWNheV9jcRdHPuT4tYjjaPFVBXF1b3RlcRhVC2l0J3MgInEiClwJcRlVAmwycRpoFlUHY3R4X2RpbXEbTQACVQdkYXRhc2V0cRxVBWgybUFQcR1VA25lZ3EeSv3///9VA2luZnEfR3/wAAAAAAAAVQhzZWxlY3RvcnEgSTAwClUHbmVnX2JpZ3EhSS0zNDM1OTczODM2OAp1Lg==',
  py2_p2:
    'gAJ9cQAoVRN0ZW1wZXJhdHVyZV9pbnZlcnNlcQFHP/AAAAAAAABVA2RpbXECS4BVC3VzZV9kcm9wb3V0cQOIVQZuZXN0ZWRxBH1xBShVAWFxBl1xB1UBY3EIKVUBYnEJfXEKdVUKZGljdGlvbmFyeXELTlUGbmFtZV91cQxYCQAAAGNhZsOpIOKGknENVQNiaWdxDkkxMDk5NTExNjI3Nzc2ClUFdHVwbGVxD0sBaAaGcRBVBGxpc3RxEV1xEihLAUdABAAAAAAAAFUBeHETZVUDbWlkcRRKcBEBAFUCbDFxFV1xFihLB0sIZVUHZGVjYXlfY3EXRz7k+LWI42jxVQVxdW90ZXEYVQtpdCdzICJxIgpcCXEZVQJsMnEaaBZVB2N0eF9kaW1xG00AAlUHZGF0YXNldHEcVQVoMm1BUHEdVQNuZWdxHkr9////VQNpbmZxH0d/8AAAAAAAAFUIc2VsZWN0b3JxIIlVB25lZ19iaWdxIUktMzQzNTk3MzgzNjgKdS4=',
  py2_cpickle_p2:
    'gAJ9cQEoVRN0ZW1wZXJhdHVyZV9pbnZlcnNlcQJHP/AAAAAAAABVA2RpbXEDS4BVC3VzZV9kcm9wb3V0cQSIVQZuZXN0ZWRxBX1xBihVAWFdVQFjKVUBYn11VQpkaWN0aW9uYXJ5cQdOVQZuYW1lX3VxCFgJAAAAY2Fmw6kg4oaScQlVA2JpZ3EKSTEwOTk1MTE2Mjc3NzYKVQV0dXBsZXELSwFVAWGGcQxVBGxpc3RxDV1xDihLAUdABAAAAAAAAFUBeGVVA21pZHEPSnARAQBVAmwxcRBdcREoSwdLCGVVB2RlY2F5X2NxEkc+5Pi1iONo8VUFcXVvdGVxE1ULaXQncyAicSIKXAlxFFUCbDJxFWgRVQdjdHhfZGltcRZNAAJVB2RhdGFzZXRxF1UFaDJtQVBxGFUDbmVncRlK/f///1UDaW5mcRpHf/AAAAAAAABVCHNlbGVjdG9ycRuJVQduZWdfYmlncRxJLTM0MzU5NzM4MzY4CnUu',
  py3_p0:
    'KGRwMApWY3R4X2RpbQpwMQpJNTEyCnNWZGltCnAyCkkxMjgKc1Z0ZW1wZXJhdHVyZV9pbnZlcnNlCnAzCkYxLjAKc1ZkZWNheV9jCnA0CkYxZS0wNQpzVnVzZV9kcm9wb3V0CnA1CkkwMQpzVnNlbGVjdG9yCnA2CkkwMApzVmRpY3Rpb25hcnkKcDcKTnNWZGF0YXNldApwOApWaDJtQVAKcDkKc1ZuYW1lX3UKcDEwClZjYWbpIFx1MjE5MgpwMTEKc1ZiaWcKcDEyCkwxMDk5NTExNjI3Nzc2TApzVm5lZwpwMTMKSS0zCnNWbmVnX2JpZwpwMTQKTC0zNDM1OTczODM2OEwKc1ZtaWQKcDE1Ckk3MDAwMApzVmxpc3QKcDE2CihscDE3CkkxCmFGMi41CmFWeApwMTgKYXNWdHVwbGUKcDE5CihJMQpWYQpwMjAKdHAyMQpzVm5lc3RlZApwMjIKKGRwMjMKZzIwCihscDI0CnNWYgpwMjUKKGRwMjYKc1ZjCnAyNwoodHNzVmwxCnAyOAoobHAyOQpJNwphSTgKYXNWbDIKcDMwCmcyOQpzVnF1b3RlCnAzMQpWaXQncyAicSJcdTAwMGFcdTAwNWMJCnAzMgpzVmluZgpwMzMKRmluZgpzLg==',
  py3_p1:
    'fXEAKFgHAAAAY3R4X2RpbXEBTQACWAMAAABkaW1xAkuAWBMAAAB0ZW1wZXJhdHVyZV9pbnZlcnNlcQNHP/AAAAAAAABYBwAAAGRlY2F5X2NxBEc+5Pi1iONo8VgLAAAAdXNlX2Ryb3BvdXRxBUkwMQpYCAAAAHNlbGVjdG9ycQZJMDAKWAoAAABkaWN0aW9uYXJ5cQdOWAcAAABkYXRhc2V0cQhYBQAAAGgybUFQcQlYBgAAAG5hbWVfdXEKWAkAAABjYWbDqSDihpJxC1gDAAAAYmlncQxMMTA5OTUxMTYyNzc3NkwKWAMAAABuZWdxDUr9////WAcAAABuZWdfYmlncQ5MLTM0MzU5NzM4MzY4TApYAwAAAG1pZHEPSnARAQBYBAAAAGxpc3RxEF1xEShLAUdABAAAAAAAAFgBAAAAeHESZVgFAAAAdHVwbGVxEyhLAVgBAAAAYXEUdHEVWAYAAABuZXN0ZWRxFn1xFyhoFF1xGFgBAAAAYnEZfXEaWAEAAABjcRspdVgCAAAAbDFxHF1xHShLB0sIZVgCAAAAbDJxHmgdWAUAAABxdW90ZXEfWAsAAABpdCdzICJxIgpcCXEgWAMAAABpbmZxIUd/8AAAAAAAAHUu',
  py3_p2:
    'gAJ9cQAoWAcAAABjdHhfZGltcQFNAAJYAwAAAGRpbXECS4BYEwAAAHRlbXBlcmF0dXJlX2ludmVyc2VxA0c/8AAAAAAAAFgHAAAAZGVjYXlfY3EERz7k+LWI42jxWAsAAAB1c2VfZHJvcG91dHEFiFgIAAAAc2VsZWN0b3JxBolYCgAAAGRpY3Rpb25hcnlxB05YBwAAAGRhdGFzZXRxCFgFAAAAaDJtQVBxCVgGAAAAbmFtZV91cQpYCQAAAGNhZsOpIOKGknELWAMAAABiaWdxDIoGAAAAAAABWAMAAABuZWdxDUr9////WAcAAABuZWdfYmlncQ6KBQAAAAD4WAMAAABtaWRxD0pwEQEAWAQAAABsaXN0cRBdcREoSwFHQAQAAAAAAABYAQAAAHhxEmVYBQAAAHR1cGxlcRNLAVgBAAAAYXEUhnEVWAYAAABuZXN0ZWRxFn1xFyhoFF1xGFgBAAAAYnEZfXEaWAEAAABjcRspdVgCAAAAbDFxHF1xHShLB0sIZVgCAAAAbDJxHmgdWAUAAABxdW90ZXEfWAsAAABpdCdzICJxIgpcCXEgWAMAAABpbmZxIUd/8AAAAAAAAHUu',
  py3_p3:
    'gAN9cQAoWAcAAABjdHhfZGltcQFNAAJYAwAAAGRpbXECS4BYEwAAAHRlbXBlcmF0dXJlX2ludmVyc2VxA0c/8AAAAAAAAFgHAAAAZGVjYXlfY3EERz7k+LWI42jxWAsAAAB1c2VfZHJvcG91dHEFiFgIAAAAc2VsZWN0b3JxBolYCgAAAGRpY3Rpb25hcnlxB05YBwAAAGRhdGFzZXRxCFgFAAAAaDJtQVBxCVgGAAAAbmFtZV91cQpYCQAAAGNhZsOpIOKGknELWAMAAABiaWdxDIoGAAAAAAABWAMAAABuZWdxDUr9////WAcAAABuZWdfYmlncQ6KBQAAAAD4WAMAAABtaWRxD0pwEQEAWAQAAABsaXN0cRBdcREoSwFHQAQAAAAAAABYAQAAAHhxEmVYBQAAAHR1cGxlcRNLAVgBAAAAYXEUhnEVWAYAAABuZXN0ZWRxFn1xFyhoFF1xGFgBAAAAYnEZfXEaWAEAAABjcRspdVgCAAAAbDFxHF1xHShLB0sIZVgCAAAAbDJxHmgdWAUAAABxdW90ZXEfWAsAAABpdCdzICJxIgpcCXEgWAMAAABpbmZxIUd/8AAAAAAAAHUu',
  py3_p4:
    'gASVUAEAAAAAAAB9lCiMB2N0eF9kaW2UTQACjANkaW2US4CME3RlbXBlcmF0dXJlX2ludmVyc2WURz/wAAAAAAAAjAdkZWNheV9jlEc+5Pi1iONo8YwLdXNlX2Ryb3BvdXSUiIwIc2VsZWN0b3KUiYwKZGljdGlvbmFyeZROjAdkYXRhc2V0lIwFaDJtQVCUjAZuYW1lX3WUjAljYWbDqSDihpKUjANiaWeUigYAAAAAAAGMA25lZ5RK/f///4wHbmVnX2JpZ5SKBQAAAAD4jANtaWSUSnARAQCMBGxpc3SUXZQoSwFHQAQAAAAAAACMAXiUZYwFdHVwbGWUSwGMAWGUhpSMBm5lc3RlZJR9lChoFF2UjAFilH2UjAFjlCl1jAJsMZRdlChLB0sIZYwCbDKUaB2MBXF1b3RllIwLaXQncyAicSIKXAmUjANpbmaUR3/wAAAAAAAAdS4=',
};

const EXPECTED: Record<string, PickleData> = {
  ctx_dim: 512,
  dim: 128,
  temperature_inverse: 1,
  decay_c: 1e-5,
  use_dropout: true,
  selector: false,
  dictionary: null,
  dataset: 'h2mAP',
  name_u: 'café →',
  big: 2 ** 40,
  neg: -3,
  neg_big: -(2 ** 35),
  mid: 70000,
  list: [1, 2.5, 'x'],
  tuple: [1, 'a'],
  nested: { a: [], b: {}, c: [] },
  l1: [7, 8],
  l2: [7, 8],
  quote: 'it\'s "q"\n\\\t',
  inf: Infinity,
};

/** Plain-object copy (the reader builds prototype-less dicts) for deepEqual. */
function plain(v: PickleData): unknown {
  if (Array.isArray(v)) return v.map(plain);
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plain(x)]));
  }
  return v;
}

for (const [name, b64] of Object.entries(PYTHON_PICKLES)) {
  test(`reads a dict pickled by ${name}`, () => {
    const value = parsePickle(Buffer.from(b64, 'base64'), name);
    assert.deepEqual(plain(value), EXPECTED);
  });
}

test('reads the reference fixture options pickle bytes (protocol 2, BINUNICODE keys)', () => {
  // The first bytes of model.npz.pkl: {'ctx_dim': 512} as Python 3 writes it at protocol 2.
  const bytes = Buffer.from('80027d7100285807000000637478 5f64696d71014d0002752e'.replace(/ /g, ''), 'hex');
  assert.deepEqual(plain(parsePickle(bytes, 'x.pkl')), { ctx_dim: 512 });
});

test('writes protocol 2 that reads back identically, floats and tuples kept apart', () => {
  const input = {
    a: 1,
    b: new PyFloat(1),
    c: 2.5,
    d: 'ascii',
    e: 'ünïcode →',
    f: [true, false, null],
    g: new PyTuple([1, 'x']),
    h: { nested: { deeper: [] } },
    ints: [
      0,
      255,
      256,
      65535,
      65536,
      -1,
      -2147483648,
      2147483647,
      2147483648,
      -2147483649,
      2 ** 53 - 1,
      -(2 ** 53) + 1,
    ],
    long: 'x'.repeat(300),
  };
  const bytes = encodePickle(input);
  assert.deepEqual(Array.from(bytes.subarray(0, 2)), [0x80, 2]);
  assert.equal(bytes[bytes.length - 1], 0x2e);
  assert.deepEqual(plain(parsePickle(bytes, 'w.pkl')), {
    ...input,
    b: 1,
    g: [1, 'x'],
  });
  // The float marker is a BINFLOAT ('G') of 1.0 right after the key 'b'.
  const keyB = Buffer.from(bytes).indexOf(Buffer.from([0x55, 1, 0x62]));
  assert.equal(bytes[keyB + 3], 0x47);
});

test('a truncated pickle is an error naming the file', () => {
  const whole = Buffer.from(PYTHON_PICKLES.py2_cpickle_p2, 'base64');
  for (const cut of [1, 2, 10, 100, whole.length - 1]) {
    assert.throws(
      () => parsePickle(whole.subarray(0, cut), '/tmp/m.npz.pkl'),
      (e: Error) =>
        /^\/tmp\/m\.npz\.pkl: corrupt pickle: (truncated|stack underflow)/.test(e.message) &&
        !e.message.includes('\n'),
    );
  }
});

test('unknown opcodes and class references are refused', () => {
  assert.throws(() => parsePickle(Buffer.from([0x80, 2, 0xff, 0x2e]), 'a.pkl'), {
    message: /^a\.pkl: corrupt pickle: unknown opcode 0xff at offset 2$/,
  });
  const global = Buffer.from("cos\nsystem\n(S'echo hi'\ntR.", 'latin1');
  assert.throws(() => parsePickle(global, 'b.pkl'), {
    message: /^b\.pkl: corrupt pickle: refusing to load Python object os\.system/,
  });
  assert.throws(() => parsePickle(Buffer.from([0x80, 2, 0x4e, 0x73, 0x2e]), 'c.pkl'), {
    message: /^c\.pkl: corrupt pickle: stack underflow/,
  });
  assert.throws(() => parsePickle(Buffer.from([0x80, 2, 0x68, 5, 0x2e]), 'd.pkl'), {
    message: /^d\.pkl: corrupt pickle: memo key 5 not found/,
  });
  assert.throws(() => parsePickle(Buffer.from([]), 'e.pkl'), {
    message: /^e\.pkl: corrupt pickle: truncated/,
  });
});
