/** What `predict` and `evaluate` share: flags → runEvaluation → the results JSON and a headline. */
import path from 'node:path';
import type { Progress } from '../../common/progress.ts';
import { chooseBackend } from '../../model/backend.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { runEvaluation, type EvaluationReport, type EvaluationSpec } from '../workflows/evaluation.ts';
import type { PairedStatistics } from '../../common/paired-stats.ts';
import { intFlag, parseFlags, requireFlag } from './command.ts';
import { progressDetail, ProgressLine } from './progress.ts';

export const EVALUATION_FLAGS = {
  model: { type: 'string' },
  dataset: { type: 'string' },
  split: { type: 'string' },
  stride: { type: 'string' },
  'last-n': { type: 'string' },
  maxlen: { type: 'string' },
  multilabel: { type: 'boolean' },
  'batch-size': { type: 'string' },
  steps: { type: 'boolean' },
  'no-steps': { type: 'boolean' },
  backend: { type: 'string' },
  out: { type: 'string' },
  boxes: { type: 'string' },
  compare: { type: 'string' },
  queue: { type: 'string' },
  'batches-per-job': { type: 'string' },
} as const;

export const EVALUATION_USAGE = `  --model M          checkpoint: our .h5, or a reference .npz with its .npz.pkl beside it
  --dataset DIR      feature dataset directory (reference layout)
  --split S          split name: reads S_features.h5, S_framenum.txt, S_labels.txt
  --stride N         clip stride in frames (default 1, as the reference evaluation)
  --last-n N         steps whose outputs make the clip prediction (default: the model's last_n, else maxlen)
  --maxlen N         clip length in steps (default: the model's maxlen, else 30)
  --multilabel       treat the model as multi-label (sigmoid outputs, mAP)
  --batch-size N     clips per forward pass (default 32)
  --backend B        tensorflow-gpu | tensorflow | onnx | wasm | cpu (default: the fastest that loads)
  --out R.json       results file (written atomically)
  --boxes DIR        videos folder with actor boxes (<video>.boxes.json, as glimpse synth writes): adds
                     metrics.attentionOnActor, the attention mass on the actor's grid cells against their
                     share of the frame (ratio 1.0 = no better than uniform)
  --compare M2       a second checkpoint on the same split and stride: adds comparison (its report and the
                     paired statistics: McNemar's exact p, a paired bootstrap 95% interval on the accuracy
                     or mAP difference over videos, per-class deltas, the videos where they disagree)
  --queue URL        redis://HOST:PORT[/DB]: the clips go to 'glimpse worker's on other machines in jobs of
                     whole batches (the model, the dataset and the folder of R.json must be at the same
                     paths there; shards go to R.json.queue/); the report is the same as without --queue
  --batches-per-job N  with --queue: clip batches (of --batch-size) per job (default 8)`;

const pct = (v: number) => `${(v * 100).toFixed(2)}%`;
const signedPct = (v: number) => `${v >= 0 ? '+' : ''}${(v * 100).toFixed(2)}`;

/** The paired statistics as the CLI prints them, the protocol beside them. */
function pairedLines(report: EvaluationReport, paired: PairedStatistics): string {
  const s = report.settings;
  const protocol = `${report.dataset.split}, stride ${s.stride}, last_n ${s.lastN}, ${report.videos.length} videos`;
  const lines = [`paired against ${report.comparison?.report.model.path} (${protocol}):`];
  const acc = paired.accuracy;
  if (acc) {
    const ci = acc.interval;
    lines.push(
      `  accuracy A ${pct(acc.accuracyA)}, B ${pct(acc.accuracyB)}, A − B ${signedPct(acc.difference)} points, ` +
        `${ci.level * 100}% bootstrap interval [${signedPct(ci.low)}, ${signedPct(ci.high)}] (${ci.resamples} resamples, seed ${ci.seed})`,
      `  McNemar exact p = ${acc.mcnemarP.toPrecision(4)} (A right/B wrong ${acc.onlyA}, A wrong/B right ${acc.onlyB})`,
    );
  }
  const map = paired.mAP;
  if (map) {
    const ci = map.interval;
    lines.push(
      `  mAP A ${pct(map.a)}, B ${pct(map.b)}, A − B ${signedPct(map.difference)} points, ` +
        `${ci.level * 100}% bootstrap interval [${signedPct(ci.low)}, ${signedPct(ci.high)}]`,
    );
  }
  const names = report.model.classNames;
  const deltas = paired.perClassDelta
    .map((d, c) => (d === null ? null : `${names[c] ?? c} ${signedPct(d)}`))
    .filter((x): x is string => x !== null);
  lines.push(`  per-class A − B (points): ${deltas.join(', ')}`);
  return lines.join('\n') + '\n';
}

export async function runEvaluationCommand(
  argv: string[],
  keepStepsByDefault: boolean,
  usage: string,
): Promise<number> {
  const { values } = parseFlags(argv, EVALUATION_FLAGS);
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const model = requireFlag(values.model, 'model');
  const dataset = requireFlag(values.dataset, 'dataset');
  const split = requireFlag(values.split, 'split');
  const outPath = requireFlag(values.out, 'out');
  const spec: EvaluationSpec = {
    model,
    dataset,
    split,
    stride: intFlag(values.stride, 'stride', 1),
    batchSize: intFlag(values['batch-size'], 'batch-size', 32),
    ...(values.maxlen !== undefined ? { maxlen: intFlag(values.maxlen, 'maxlen', 1) } : {}),
    ...(values['last-n'] !== undefined ? { lastN: intFlag(values['last-n'], 'last-n', 1) } : {}),
    multilabel: Boolean(values.multilabel),
    keepSteps: values.steps ? true : values['no-steps'] ? false : keepStepsByDefault,
    boxes: values.boxes,
    compare: values.compare,
  };

  const backend = await chooseBackend(values.backend);
  process.stderr.write(`backend: ${backend.name}\n`);
  spec.backendName = backend.name;
  const progress = new ProgressLine();
  let report: EvaluationReport;
  try {
    const onProgress = (p: Progress) => progress.update(spec.split, p.fraction, progressDetail(p));
    if (values.queue !== undefined) {
      const { runQueuedEvaluation } = await import('../queue/evaluation.ts');
      report = await runQueuedEvaluation(
        spec,
        {
          queue: values.queue,
          shardsDir: `${path.resolve(outPath)}.queue`,
          batchesPerJob: intFlag(values['batches-per-job'], 'batches-per-job', 8),
        },
        {
          onProgress,
          log: (line) => {
            progress.done();
            process.stderr.write(`${line}\n`);
          },
        },
      );
    } else {
      report = await runEvaluation(spec, { onProgress });
    }
  } finally {
    progress.done();
  }
  const onActor = report.metrics.attentionOnActor;
  if (onActor) {
    process.stdout.write(
      `attention on actor: ${(onActor.massInside * 100).toFixed(1)}% of the mass on ${(onActor.areaInside * 100).toFixed(1)}% of the frame, ratio ${onActor.ratio.toFixed(2)}\n`,
    );
  }
  await writeFileAtomic(outPath, JSON.stringify(report));
  const m = report.metrics;
  const headline =
    m.mAP !== undefined
      ? `mAP ${(m.mAP * 100).toFixed(2)}%`
      : `accuracy ${((m.accuracy ?? 0) * 100).toFixed(2)}%`;
  process.stdout.write(`${report.videos.length} videos, ${headline} → ${outPath}\n`);
  if (report.comparison) process.stdout.write(pairedLines(report, report.comparison.paired));
  return 0;
}
