/** `glimpse import`: a feature file of another layout → a split of the reference layout. */
import {
  chooseCandidate,
  detectForImport,
  importFeatures,
  readSplitText,
  type SplitText,
} from '../features/import/convert.ts';
import type { Detection } from '../features/import/detect.ts';
import { type Command, numberFlag, parseFlags, requireFlag, UsageError } from './command.ts';
import { progressDetail, ProgressLine } from './progress.ts';

const usage = `glimpse import --features FILE.h5 --out DIR --split S (--from DIR | --framenum F --labels F) [options]

Converts an HDF5 file of (frames, L·D) rows or a (frames, K, K, D) / (frames, D, K, K) array, in C order
(as h5py and NumPy write) or Fortran order (as MATLAB writes: every dimension reversed), into the split S of
a feature dataset in the reference layout (channel-major rows l + L·c), with its text files. Every
interpretation of the array's shape is scored on sample frames by spatial coherence (neighbouring grid
cells' feature vectors correlate, far ones do not) and temporal coherence (consecutive frames look alike),
and the best one that fits the frame counts is used. Nothing is left half-written.

  --features FILE     the HDF5 file to import
  --key NAME          the dataset inside it (default: 'features', else its only float array)
  --out DIR           feature dataset directory (created; other splits in it are kept)
  --split S           split name, e.g. train, valid, test
  --from DIR          take {split}_framenum.txt, _labels.txt, _filename.txt, classes.txt and dataset.json's
                      backbone and fps from this reference-layout folder
  --from-split S      the split of --from to take them from (default: --split)
  --framenum F        one frame count per video (instead of --from)
  --labels F          one class id (or comma-separated 0/1 flags) per video
  --filename F        one video file name per line (optional)
  --classes F         one class name per line (optional)
  --layout ID         use this candidate (see --dry-run) instead of the best-ranked one
  --dry-run           list the ranked candidates and their scores, write nothing
  --backbone NAME     dataset.json's backbone when --from gives none (default 'unknown')
  --fps N             dataset.json's fps when --from gives none (default 30)
  --overwrite         replace an existing split S in --out
`;

const FLAGS = {
  features: { type: 'string' },
  key: { type: 'string' },
  out: { type: 'string' },
  split: { type: 'string' },
  from: { type: 'string' },
  'from-split': { type: 'string' },
  framenum: { type: 'string' },
  labels: { type: 'string' },
  filename: { type: 'string' },
  classes: { type: 'string' },
  layout: { type: 'string' },
  'dry-run': { type: 'boolean' },
  backbone: { type: 'string' },
  fps: { type: 'string' },
  overwrite: { type: 'boolean' },
} as const;

type Values = ReturnType<typeof parseFlags<typeof FLAGS>>['values'];

function splitText(v: Values): SplitText | null {
  if (v.from !== undefined) {
    if (v.framenum !== undefined || v.labels !== undefined) {
      throw new UsageError('give either --from or --framenum/--labels, not both');
    }
    return { kind: 'folder', dir: v.from, split: v['from-split'] };
  }
  if (v.framenum === undefined && v.labels === undefined) return null;
  return {
    kind: 'files',
    framenum: requireFlag(v.framenum, 'framenum'),
    labels: requireFlag(v.labels, 'labels'),
    filename: v.filename,
    classes: v.classes,
  };
}

function table(detection: Detection): string {
  const lines = detection.candidates.map((c, i) => {
    const mark = c.conflict ? `  (does not fit: ${c.conflict})` : '';
    return `${String(i + 1).padStart(2)}. ${c.id.padEnd(24)} score ${c.score.toFixed(3).padStart(6)}  spatial ${c.spatial.toFixed(3).padStart(6)}  temporal ${c.temporal.toFixed(3).padStart(6)}  ${c.frames} frames × ${c.K}×${c.K}×${c.D}  ${c.description}${mark}`;
  });
  return `${detection.file}: '${detection.key}' ${detection.dtype} [${detection.shape.join(', ')}]\n${lines.join('\n')}\n`;
}

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const features = requireFlag(v.features, 'features');
  const text = splitText(v);
  if (v['dry-run']) {
    const split = v.split ?? 'train';
    const files = text ? await readSplitText(text, v['from-split'] ?? split) : null;
    const detection = await detectForImport(features, v.key, files, v.out ?? null);
    process.stdout.write(table(detection));
    if (v.layout !== undefined) chooseCandidate(detection, v.layout);
    return 0;
  }
  const outDir = requireFlag(v.out, 'out');
  const split = requireFlag(v.split, 'split');
  if (!text) throw new UsageError('--from DIR or --framenum F --labels F is required');
  const progress = new ProgressLine();
  let report;
  try {
    report = await importFeatures(
      {
        features,
        key: v.key,
        text,
        outDir,
        split,
        layout: v.layout,
        overwrite: Boolean(v.overwrite),
        backbone: v.backbone,
        fps: v.fps === undefined ? undefined : numberFlag(v.fps, 'fps', 30, Number.MIN_VALUE),
        invokedAs: ['glimpse', 'import', ...argv].join(' '),
      },
      { onProgress: (p) => progress.update(split, p.fraction, progressDetail(p)) },
    );
  } finally {
    progress.done();
  }
  process.stdout.write(
    `${report.videos} videos, ${report.frames} frames of ${report.L}×${report.D} read as ${report.layout} ` +
      `(${report.description}) → ${report.featuresPath}\n`,
  );
  return 0;
}

export const importCommand: Command = {
  name: 'import',
  summary: 'feature files of other layouts (rows, K×K×D, C or Fortran order) → the reference layout',
  usage,
  run,
};
