/**
 * One small real setting for engine tests, made once per test file through the real CLI: a synthetic set
 * (2 classes, 3 videos each, 40 frames), its built-in-backbone features, and a tiny model trained 2 epochs.
 */
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { runGlimpse } from './cli.ts';

export interface EngineFixture {
  root: string;
  videos: string;
  features: string;
  model: string;
}

export const FIXTURE_MAXLEN = 16;

function glimpse(args: string[]): void {
  const r = runGlimpse(args);
  assert.equal(r.code, 0, `glimpse ${args[0]} failed: ${r.stderr}`);
}

export function makeEngineFixture(root = mkdtempSync(path.join(tmpdir(), 'glimpse-engine-'))): EngineFixture {
  const videos = path.join(root, 'videos');
  const features = path.join(root, 'features');
  const model = path.join(root, 'model.h5');
  glimpse(['synth', '--out', videos, '--seed', '7', '--classes', '2', '--videos', '5']);
  glimpse(['extract', '--videos', videos, '--dataset-kind', 'synth', '--out', features]);
  glimpse([
    'train',
    '--dataset',
    features,
    '--out',
    model,
    '--dim',
    '16',
    '--dim-out',
    '16',
    '--maxlen',
    String(FIXTURE_MAXLEN),
    '--last-n',
    '8',
    '--training-stride',
    '8',
    '--batch-size',
    '8',
    '--epochs',
    '2',
    '--no-dropout',
    '--seed',
    '3',
  ]);
  return { root, videos, features, model };
}
