/**
 * `glimpse extract` on real videos, through the real CLI: the reference layout and its provenance, features
 * equal to the backbone on the decoded frames, a killed or disk-full run that continues to byte-identical
 * features, bad videos reported while the rest go on, and broken backbones refused up front.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { chooseBackend } from '../../model/backend.ts';
import { loadBackbone } from '../../main/features/backbone.ts';
import { decodeFrames } from '../../main/media/decode.ts';
import { REPO_ROOT, runGlimpse, runPython } from '../support/cli.ts';
import { writeLayersModel } from '../support/tfjs-models.ts';
import { ffmpeg, makeTestVideo } from './media-fixtures.ts';

const tmp = mkdtempSync(path.join(tmpdir(), 'glimpse-extract-'));
const videos = path.join(tmp, 'videos');
const baseline = path.join(tmp, 'baseline');
const SPLITS = ['train', 'valid', 'test'];
after(() => rmSync(tmp, { recursive: true, force: true }));

const extractArgs = (out: string, ...more: string[]) => [
  'extract',
  '--videos',
  videos,
  '--dataset-kind',
  'synth',
  '--out',
  out,
  '--batch',
  '16',
  ...more,
];

/** sha256 of each split's `features` bytes and its shape, read by h5py. */
function featureDigests(dir: string): Record<string, string> {
  const out = runPython(
    `
import sys, json, hashlib, h5py
res = {}
for split in ${JSON.stringify(SPLITS)}:
    with h5py.File(f'{sys.argv[1]}/{split}_features.h5', 'r') as f:
        d = f['features']
        res[split] = f'{d.shape} {d.dtype} ' + hashlib.sha256(d[()].tobytes()).hexdigest()
print(json.dumps(res))
`,
    [dir],
  );
  return JSON.parse(out) as Record<string, string>;
}

function textFiles(dir: string): string {
  return SPLITS.flatMap((s) =>
    ['framenum', 'labels', 'filename'].map((k) => readFileSync(path.join(dir, `${s}_${k}.txt`), 'utf8')),
  ).join('|');
}

function journalLines(dir: string): number {
  return SPLITS.reduce((n, s) => {
    const file = path.join(dir, `${s}_features.journal.jsonl`);
    return n + (existsSync(file) ? readFileSync(file, 'utf8').split('\n').length - 1 : 0);
  }, 0);
}

before(() => {
  const made = runGlimpse([
    'synth',
    '--out',
    videos,
    '--seed',
    '21',
    '--classes',
    '2',
    '--videos',
    '4',
    '--frames',
    '48',
  ]);
  assert.equal(made.code, 0, made.stderr);
  const done = runGlimpse(extractArgs(baseline));
  assert.equal(done.code, 0, done.stderr);
  // Progress reports frames/s and an ETA (off a terminal: every few seconds, and at the end).
  assert.match(done.stderr, /8\/8 videos [\d.]+ frames\/s ETA 0s/);
});

test('extract writes the reference layout: channel-major rows of the backbone on the decoded frames', async () => {
  const info = JSON.parse(readFileSync(path.join(baseline, 'dataset.json'), 'utf8'));
  assert.equal(info.backbone, 'builtin/features');
  assert.deepEqual(info.frameSize, { width: 112, height: 112 });
  assert.equal(info.fps, 30);
  assert.equal(info.locations, 49);
  assert.equal(info.layout, 'channel-major');
  assert.equal(info.provenance.extraction.complete, true);
  assert.equal(info.provenance.extraction.datasetKind, 'synth');
  assert.match(info.provenance.extraction.backboneSource.weightsSha256, /^[0-9a-f]{64}$/);
  assert.equal(readFileSync(path.join(baseline, 'classes.txt'), 'utf8'), 'horizontal\nvertical\n');
  const report = JSON.parse(readFileSync(path.join(baseline, 'extract-report.json'), 'utf8'));
  assert.equal(report.complete, true);
  assert.deepEqual(report.failed, []);
  const listed = SPLITS.reduce((n, s) => n + report.splits[s].extracted, 0);
  assert.equal(listed, 8);
  for (const s of SPLITS) {
    const frames = readFileSync(path.join(baseline, `${s}_framenum.txt`), 'utf8')
      .trim()
      .split('\n');
    assert.ok(frames.every((f) => f === '48'));
  }

  // Row 5 of the first test video, as h5py reads it, against the backbone run here on the same frame.
  const first = readFileSync(path.join(baseline, 'test_filename.txt'), 'utf8').split('\n')[0];
  const row = JSON.parse(
    runPython(
      `import sys, json, h5py; print(json.dumps(h5py.File(sys.argv[1], 'r')['features'][5].tolist()))`,
      [path.join(baseline, 'test_features.h5')],
    ),
  ) as number[];
  await chooseBackend('wasm');
  const backbone = await loadBackbone('builtin');
  let frame: Uint8Array | null = null;
  for await (const f of decodeFrames(path.join(videos, first), { width: 112, height: 112, fps: 30 })) {
    if (f.index === 5) frame = f.rgb;
  }
  const mine = await backbone.infer(frame as Uint8Array, 1);
  backbone.dispose();
  const { L, D } = { L: 49, D: info.ctxDim as number };
  assert.equal(row.length, L * D);
  let worst = 0;
  for (let l = 0; l < L; l++) {
    for (let c = 0; c < D; c++) worst = Math.max(worst, Math.abs(row[l + L * c] - mine[l * D + c]));
  }
  assert.ok(worst < 1e-5, `largest difference ${worst}`);
});

test('an extraction killed at a random point continues to byte-identical features', async (t) => {
  const out = path.join(tmp, 'killed');
  const afterVideos = 1 + Math.floor(Math.random() * 5);
  const extraMs = Math.floor(Math.random() * 150);
  const child = spawn(process.execPath, [path.join(REPO_ROOT, 'bin/glimpse.js'), ...extractArgs(out)], {
    env: { ...process.env, GLIMPSE_BACKEND: 'wasm' },
    stdio: 'ignore',
  });
  const exited = new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_code, sig) => resolve(sig)),
  );
  while (journalLines(out) < afterVideos && child.exitCode === null)
    await new Promise((r) => setTimeout(r, 10));
  await new Promise((r) => setTimeout(r, extraMs));
  child.kill('SIGKILL');
  assert.equal(await exited, 'SIGKILL', 'the run was still going when killed');
  const complete = journalLines(out);
  t.diagnostic(`killed ${extraMs} ms after video ${afterVideos}, with ${complete} videos complete`);
  assert.ok(
    !existsSync(path.join(out, 'test_framenum.txt')),
    'a killed run leaves no finished-looking split',
  );

  const again = runGlimpse(extractArgs(out));
  assert.equal(again.code, 0, again.stderr);
  const report = JSON.parse(readFileSync(path.join(out, 'extract-report.json'), 'utf8'));
  assert.equal(report.run.resumedVideos, complete);
  assert.deepEqual(featureDigests(out), featureDigests(baseline));
  assert.equal(textFiles(out), textFiles(baseline));
});

test('a full disk stops the run with a one-line error; running again completes byte-identically', () => {
  const out = path.join(tmp, 'full');
  // 1200 KiB per file: the train split's second 1 MiB chunk does not fit (bash's ulimit counts KiB).
  const cli = [path.join(REPO_ROOT, 'bin/glimpse.js'), ...extractArgs(out)].map((a) => `'${a}'`).join(' ');
  const full = spawnSync('bash', ['-c', `ulimit -f 1200; exec '${process.execPath}' ${cli}`], {
    encoding: 'utf8',
    env: { ...process.env, GLIMPSE_BACKEND: 'wasm' },
  });
  assert.equal(full.status, 1, full.stderr);
  const lastLine = full.stderr.trim().split('\n').at(-1) ?? '';
  assert.match(lastLine, /^glimpse extract: .*train_features\.h5: cannot write to disk/);
  assert.ok(!existsSync(path.join(out, 'train_framenum.txt')));
  const report = JSON.parse(readFileSync(path.join(out, 'extract-report.json'), 'utf8'));
  assert.match(report.stopped, /cannot write to disk/);
  assert.equal(report.complete, false);

  const again = runGlimpse(extractArgs(out));
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(featureDigests(out), featureDigests(baseline));
  assert.equal(textFiles(out), textFiles(baseline));
});

test('bad videos are listed with the reason while the rest are extracted; a short video gives one clip', async () => {
  const root = path.join(tmp, 'folders');
  const good = path.join(root, 'good');
  const bad = path.join(root, 'bad');
  mkdirSync(good, { recursive: true });
  mkdirSync(bad, { recursive: true });
  copyFileSync(path.join(videos, 'horizontal', 'horizontal_000.mkv'), path.join(good, 'a.mkv'));
  copyFileSync(path.join(videos, 'vertical', 'vertical_000.mkv'), path.join(good, 'b.mkv'));
  writeFileSync(path.join(bad, 'notvideo.avi'), 'this is a text file, not a video\n');
  writeFileSync(path.join(bad, 'empty.mp4'), '');
  const whole = await makeTestVideo(path.join(tmp, 'whole.avi'));
  const bytes = readFileSync(whole);
  writeFileSync(path.join(bad, 'truncated.avi'), bytes.subarray(0, bytes.length >> 1));
  await ffmpeg(
    '-f',
    'lavfi',
    '-i',
    'sine=frequency=440:duration=1',
    '-c:a',
    'pcm_s16le',
    path.join(bad, 'audio.mkv'),
  );
  await makeTestVideo(path.join(bad, 'short.mkv'), { seconds: 0.2, codecArgs: ['-c:v', 'ffv1'] });

  const out = path.join(tmp, 'folders-features');
  const r = runGlimpse([
    'extract',
    '--videos',
    root,
    '--dataset-kind',
    'folders',
    '--out',
    out,
    '--seed',
    '1',
  ]);
  assert.equal(r.code, 0, r.stderr);
  const report = JSON.parse(readFileSync(path.join(out, 'extract-report.json'), 'utf8'));
  const reasons = Object.fromEntries(
    (report.failed as { file: string; reason: string }[]).map((f) => [f.file, f.reason]),
  );
  assert.deepEqual(Object.keys(reasons).sort(), [
    'bad/audio.mkv',
    'bad/empty.mp4',
    'bad/notvideo.avi',
    'bad/truncated.avi',
  ]);
  assert.match(reasons['bad/empty.mp4'], /empty\.mp4: empty file \(0 bytes\)/);
  assert.match(reasons['bad/notvideo.avi'], /notvideo\.avi: /);
  assert.match(reasons['bad/truncated.avi'], /truncated\.avi: damaged or truncated video/);
  assert.match(reasons['bad/audio.mkv'], /audio\.mkv: /);
  for (const reason of Object.values(reasons)) assert.ok(!reason.includes('\n'));
  assert.equal(report.short.length, 1);
  assert.equal(report.short[0].file, 'bad/short.mkv');
  assert.ok(report.short[0].frames > 0 && report.short[0].frames < 30);

  // The extracted videos, and only they, are in the splits' text files and rows.
  const listed = SPLITS.flatMap((s) =>
    readFileSync(path.join(out, `${s}_filename.txt`), 'utf8')
      .split('\n')
      .filter(Boolean),
  );
  assert.deepEqual(listed.sort(), ['bad/short.mkv', 'good/a.mkv', 'good/b.mkv']);
  const rows = JSON.parse(featureDigestsShapes(out)) as Record<string, number>;
  for (const s of SPLITS) {
    const frames = readFileSync(path.join(out, `${s}_framenum.txt`), 'utf8')
      .split('\n')
      .filter(Boolean)
      .reduce((n, f) => n + Number(f), 0);
    assert.equal(rows[s], frames, s);
  }
});

function featureDigestsShapes(dir: string): string {
  return runPython(
    `
import sys, json, h5py
print(json.dumps({s: h5py.File(f'{sys.argv[1]}/{s}_features.h5', 'r')['features'].shape[0] for s in ${JSON.stringify(SPLITS)}}))
`,
    [dir],
  );
}

test('a broken backbone is refused before anything is written: one line naming the file or node', async () => {
  const folder = path.join(tmp, 'backbone');
  await writeLayersModel(folder);
  const out = path.join(tmp, 'never');

  const notMap = runGlimpse(extractArgs(out, '--backbone', folder, '--node', 'flat'));
  assert.equal(notMap.code, 1);
  assert.match(
    notMap.stderr.trim().split('\n').at(-1) ?? '',
    /^glimpse extract: backbone .*backbone: node 'flat' gives shape \[1, 108\].*not a K×K×D map/,
  );

  writeFileSync(path.join(folder, 'model.json'), '{"modelTopology": ');
  const broken = runGlimpse(extractArgs(out, '--backbone', folder));
  assert.equal(broken.code, 1);
  const line = broken.stderr.trim().split('\n').at(-1) ?? '';
  assert.ok(line.startsWith(`glimpse extract: ${path.join(folder, 'model.json')}: not valid JSON`), line);
  assert.ok(!existsSync(out));
});
