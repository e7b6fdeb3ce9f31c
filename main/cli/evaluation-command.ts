/** What `predict` and `evaluate` share: flags → runEvaluation → the results JSON and a headline. */
import { chooseBackend } from '../../model/backend.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { runEvaluation, type EvaluationReport, type EvaluationSpec } from '../workflows/evaluation.ts';
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
} as const;

export const EVALUATION_USAGE = `  --model M          checkpoint: our .h5, or a reference .npz with its .npz.pkl beside it
  --dataset DIR      feature dataset directory (reference layout)
  --split S          split name: reads S_features.h5, S_framenum.txt, S_labels.txt
  --stride N         clip stride in frames (default 1, as the reference evaluation)
  --last-n N         steps whose outputs make the clip prediction (default: the model's last_n, else maxlen)
  --maxlen N         clip length in steps (default: the model's maxlen, else 30)
  --multilabel       treat the model as multi-label (sigmoid outputs, mAP)
  --batch-size N     clips per forward pass (default 32)
  --backend B        tensorflow-gpu | tensorflow | wasm | cpu (default: the fastest that loads)
  --out R.json       results file (written atomically)
  --boxes DIR        videos folder with actor boxes (<video>.boxes.json, as glimpse synth writes): adds
                     metrics.attentionOnActor, the attention mass on the actor's grid cells against their
                     share of the frame (ratio 1.0 = no better than uniform)`;

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
  };

  const backend = await chooseBackend(values.backend);
  process.stderr.write(`backend: ${backend.name}\n`);
  spec.backendName = backend.name;
  const progress = new ProgressLine();
  let report: EvaluationReport;
  try {
    report = await runEvaluation(spec, {
      onProgress: (p) => progress.update(spec.split, p.fraction, progressDetail(p)),
    });
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
  return 0;
}
