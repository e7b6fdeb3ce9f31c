/**
 * The signal test bed of the convergence bench: a small feature dataset in which only attention reveals the
 * class. Every frame holds each class's pattern exactly once, at distinct random locations; the one at the
 * video's marked location (its first four channels raised) is the class. The frame average is therefore the
 * same whatever the class: a model must learn to attend to the marker before it can classify. (The h5py-written
 * set of the training tests, test/support/signal-dataset.ts, is easier: three random distractors per frame, so
 * the average leans towards the class.)
 */
import seedrandom from 'seedrandom';
import { writeClasses, writeDatasetJson, writeFeatureDataset } from '../../model/data/writer.ts';
import { Gaussian } from '../../model/params.ts';

export interface SignalSetShape {
  locations: number;
  ctxDim: number;
  classes: number;
  /** Frames per video. */
  frames: number;
  /** Videos per class in each split. */
  perClass: { train: number; valid: number };
}

export const SIGNAL_SET: SignalSetShape = {
  locations: 16,
  ctxDim: 24,
  classes: 4,
  frames: 16,
  perClass: { train: 24, valid: 10 },
};

const MARKER_CHANNELS = 4;

/** Writes `train` and `valid` splits, classes.txt and dataset.json (L and D) into `dir`; deterministic in `seed`. */
export async function writeSignalSet(
  dir: string,
  seed: number,
  shape: SignalSetShape = SIGNAL_SET,
): Promise<void> {
  const { locations: L, ctxDim: D, classes: C, frames: F } = shape;
  if (C > L) throw new Error(`signal set: ${C} classes do not fit in ${L} locations`);
  const g = new Gaussian(seed);
  const rng = seedrandom.alea(`signal-set/${seed}`);
  const pick = (n: number) => Math.floor(rng() * n);
  const width = D - MARKER_CHANNELS;
  const protos = Float32Array.from({ length: C * width }, () => 1.5 * g.next());

  const video = (label: number): Float32Array => {
    const marked = pick(L);
    const x = new Float32Array(F * L * D); // location-major (F, L, D)
    for (let i = 0; i < x.length; i++) x[i] = 0.5 * Math.max(0, g.next());
    const addPattern = (f: number, l: number, c: number) => {
      const at = (f * L + l) * D + MARKER_CHANNELS;
      for (let k = 0; k < width; k++) x[at + k] += protos[c * width + k];
    };
    for (let f = 0; f < F; f++) {
      for (let k = 0; k < MARKER_CHANNELS; k++) x[(f * L + marked) * D + k] += 3;
      addPattern(f, marked, label);
      const others = Array.from({ length: L }, (_, l) => l).filter((l) => l !== marked);
      for (let c = 0; c < C; c++) if (c !== label) addPattern(f, others.splice(pick(others.length), 1)[0], c);
    }
    return x;
  };

  for (const split of ['train', 'valid'] as const) {
    const labels = Array.from({ length: C * shape.perClass[split] }, (_, i) => i % C);
    for (let i = labels.length - 1; i > 0; i--) {
      const j = pick(i + 1);
      [labels[i], labels[j]] = [labels[j], labels[i]];
    }
    const videos = labels.map((label, i) => ({ file: `v${i}.avi`, label, frames: video(label) }));
    await writeFeatureDataset(dir, split, videos, L, D);
  }
  await writeClasses(
    dir,
    Array.from({ length: C }, (_, c) => `class${c}`),
  );
  await writeDatasetJson(dir, {
    backbone: 'none: the signal test bed',
    frameSize: { width: 0, height: 0 },
    fps: 30,
    locations: L,
    ctxDim: D,
    layout: 'channel-major',
    provenance: { generator: 'main/bench/signal-set.ts', seed },
  });
}
