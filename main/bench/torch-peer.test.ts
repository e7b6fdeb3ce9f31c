import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  blasName,
  MIN_PEER_SGEMM_GFLOPS,
  openblasCoretypeFor,
  parsePeerOutput,
  type PeerFigures,
  peerEnvironment,
  peerRatioRefusal,
} from './torch-peer.ts';

const OPENBLAS = [
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libblas.so.3',
  '/usr/lib/x86_64-linux-gnu/openblas-pthread/libopenblasp-r0.3.21.so',
];

function peer(threads: number, sgemmGflops: number, blas: string[] = OPENBLAS): PeerFigures {
  return {
    peer: 'pytorch-cpu',
    torch: '1.13.0a0',
    threads,
    trainClipsPerS: 10,
    trainMsPerBatch: 1600,
    inferClipsPerS: 25,
    inferMsPerBatch: 640,
    sgemmGflops,
    blas,
    openblasCoretype: null,
  };
}

test('the peer line parses into figures; a broken line is a one-line error', () => {
  const line =
    '{"peer": "pytorch-cpu", "torch": "1.13.0a0", "threads": 2, "sgemm_gflops": 151.2, "blas": ' +
    `${JSON.stringify(OPENBLAS)}, "openblas_coretype": "SkylakeX", "batch": 16, "train_ms_per_batch": 43748.2, ` +
    '"train_clips_per_s": 0.37, "infer_ms_per_batch": 28662.1, "infer_clips_per_s": 0.56}';
  assert.deepEqual(parsePeerOutput(`warning: something\n${line}\n`), {
    peer: 'pytorch-cpu',
    torch: '1.13.0a0',
    threads: 2,
    trainClipsPerS: 0.37,
    trainMsPerBatch: 43748.2,
    inferClipsPerS: 0.56,
    inferMsPerBatch: 28662.1,
    sgemmGflops: 151.2,
    blas: OPENBLAS,
    openblasCoretype: 'SkylakeX',
  });
  assert.throws(() => parsePeerOutput('Traceback (most recent call last)'), /output is not JSON/);
  assert.throws(() => parsePeerOutput('{"threads": 1}'), /lacks a numeric train_clips_per_s/);
});

test('a ratio is refused when any peer run is below the sgemm floor, naming the rate and the BLAS', () => {
  assert.equal(peerRatioRefusal([peer(1, 150), peer(2, 280)]), null);
  assert.equal(peerRatioRefusal([peer(1, MIN_PEER_SGEMM_GFLOPS)]), null);
  assert.match(peerRatioRefusal([]) ?? '', /no peer run succeeded/);
  const reference = peerRatioRefusal([peer(1, 6.1, ['/usr/lib/x86_64-linux-gnu/blas/libblas.so.3'])]) ?? '';
  assert.match(
    reference,
    /^no ratio: the peer's sgemm ran at 6\.1 GFLOP\/s with 1 thread\(s\) on reference BLAS/,
  );
  assert.match(reference, /below 40 GFLOP\/s/);
  assert.match(reference, /libopenblas0-pthread/);
  // One slow run refuses the ratio even when another is fast: no ratio against a chosen subset.
  const mixed = peerRatioRefusal([peer(1, 35.3), peer(2, 61)]) ?? '';
  assert.match(mixed, /35\.3 GFLOP\/s with 1 thread\(s\) on openblas-pthread/);
  assert.doesNotMatch(mixed, /61/);
});

test('the BLAS is named from the libraries the peer mapped', () => {
  assert.equal(blasName(peer(1, 150)), 'openblas-pthread');
  assert.equal(
    blasName({ ...peer(1, 150), openblasCoretype: 'SkylakeX' }),
    'openblas-pthread, core SkylakeX',
  );
  assert.equal(blasName(peer(1, 90, ['/opt/intel/lib/libmkl_rt.so.2'])), 'mkl');
  assert.equal(blasName(peer(1, 6, [])), 'unknown BLAS');
});

test('the peer environment holds OpenBLAS to its thread count and names the core type the CPU supports', () => {
  const skx = new Set(['avx2', 'fma', 'avx512f', 'avx512bw', 'avx512vl', 'avx512dq', 'avx512cd']);
  assert.equal(openblasCoretypeFor(skx), 'SkylakeX');
  assert.equal(openblasCoretypeFor(new Set(['avx2', 'fma'])), 'Haswell');
  assert.equal(openblasCoretypeFor(new Set(['sse3'])), undefined);
  const env = peerEnvironment(1, { PATH: '/usr/bin' });
  assert.equal(env.OPENBLAS_NUM_THREADS, '1');
  assert.equal(env.OMP_NUM_THREADS, '1');
  assert.equal(env.PATH, '/usr/bin');
  assert.equal(peerEnvironment(2, { OPENBLAS_CORETYPE: 'Haswell' }).OPENBLAS_CORETYPE, 'Haswell');
  assert.equal(peerEnvironment(0, {}).OPENBLAS_NUM_THREADS, undefined);
});
