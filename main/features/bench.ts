/**
 * Extraction throughput for `glimpse bench`: frames/s of the whole extraction (decode → CNN → HDF5), of
 * decoding alone (same worker pipeline, no CNN) and of the CNN alone. When the CNN is the bottleneck, as
 * intended, the end-to-end rate is close to the CNN's and well below decoding's.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chooseBackend } from '../../model/backend.ts';
import { generateSynthDataset, readSynthDescription } from '../datasets/synth.ts';
import { loadBackbone } from './backbone.ts';
import { extractFeatures } from './extract.ts';
import { decodeVideos } from './frame-source.ts';

export interface ExtractionBenchOptions {
  /** A synthetic set to read; by default a small one (4 classes × 2 videos × 150 frames, 5 s each) is made in a temp folder. */
  videosDir?: string;
  /** Default 'builtin'. */
  backbone?: string;
  batch?: number;
  fps?: number;
}

export interface ExtractionBenchResult {
  /** End to end: decode, CNN and HDF5 writes, overlapped as `glimpse extract` runs them. */
  framesPerS: number;
  /** Decoding alone, through the same decode worker, at the backbone's input size. */
  decodeFramesPerS: number;
  /** decodeFramesPerS / framesPerS: above 1, something other than decoding (the CNN) sets the pace. */
  ratio: number;
  /** The CNN alone on in-memory batches. */
  cnnFramesPerS: number;
  frames: number;
  backbone: string;
  backend: string;
  input: { size: number; K: number; D: number };
}

export async function benchExtraction(opts: ExtractionBenchOptions = {}): Promise<ExtractionBenchResult> {
  const backend = await chooseBackend();
  const batch = opts.batch ?? 16;
  const fps = opts.fps ?? 30;
  const work = await mkdtemp(path.join(os.tmpdir(), 'glimpse-bench-extract-'));
  const backbone = await loadBackbone(opts.backbone ?? 'builtin');
  try {
    const videosDir = opts.videosDir ?? path.join(work, 'videos');
    if (!opts.videosDir)
      await generateSynthDataset(videosDir, { seed: 'bench', classes: 4, videos: 2, frames: 150 });
    const set = await readSynthDescription(videosDir);
    const files = set.videos.map((v) => path.join(videosDir, v.file));

    let frames = 0;
    let started = performance.now();
    for await (const event of decodeVideos(files, { fps, size: backbone.inputSize, batch })) {
      if (event.kind === 'frames') frames += event.count;
    }
    const decodeFramesPerS = frames / ((performance.now() - started) / 1000);

    const S = backbone.inputSize;
    const rgb = new Uint8Array(batch * S * S * 3).map((_, i) => (i * 2654435761) >>> 24);
    await backbone.infer(rgb, batch); // warm-up: kernels and weights on first use
    let cnnFrames = 0;
    started = performance.now();
    while (cnnFrames < Math.min(frames, 256)) {
      await backbone.infer(rgb, batch);
      cnnFrames += batch;
    }
    const cnnFramesPerS = cnnFrames / ((performance.now() - started) / 1000);

    const report = await extractFeatures({
      videosDir,
      kind: 'synth',
      outDir: path.join(work, 'features'),
      backbone,
      fps,
      batch,
    });
    const framesPerS = report.run.framesPerS;
    return {
      framesPerS,
      decodeFramesPerS,
      ratio: decodeFramesPerS / framesPerS,
      cnnFramesPerS,
      frames: report.run.frames,
      backbone: backbone.id,
      backend: backend.name,
      input: { size: S, K: backbone.K, D: backbone.D },
    };
  } finally {
    backbone.dispose();
    await rm(work, { recursive: true, force: true });
  }
}
