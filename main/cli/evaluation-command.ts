/** What `predict` and `evaluate` share: load a model, run it over a split, write the results JSON. */
import { readCheckpoint } from '../../model/checkpoint/index.ts';
import { chooseBackend } from '../../model/backend.ts';
import { openSplit } from '../../model/data/split.ts';
import { evaluateSplit, type EvaluationResult } from '../../model/evaluate.ts';
import { AttentionModel } from '../../model/model.ts';
import { writeFileAtomic } from '../../model/atomic-file.ts';
import { intFlag, parseFlags, requireFlag } from './command.ts';
import { attentionOnActor, type AttentionOnActor } from '../features/attention-boxes.ts';
import { formatDuration, ProgressLine } from './progress.ts';

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

function trainingNumber(training: Record<string, unknown>, key: string): number | undefined {
  const v = training[key];
  return typeof v === 'number' && Number.isInteger(v) && v > 0 ? v : undefined;
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
  const modelPath = requireFlag(values.model, 'model');
  const datasetDir = requireFlag(values.dataset, 'dataset');
  const splitName = requireFlag(values.split, 'split');
  const outPath = requireFlag(values.out, 'out');
  const stride = intFlag(values.stride, 'stride', 1);
  const batchSize = intFlag(values['batch-size'], 'batch-size', 32);

  const backend = await chooseBackend(values.backend);
  process.stderr.write(`backend: ${backend.name}\n`);
  const checkpoint = await readCheckpoint(modelPath);
  if (values.multilabel) checkpoint.options = { ...checkpoint.options, multilabel: true };
  const maxlen = intFlag(values.maxlen, 'maxlen', trainingNumber(checkpoint.training, 'maxlen') ?? 30);
  const lastN = intFlag(values['last-n'], 'last-n', trainingNumber(checkpoint.training, 'last_n') ?? maxlen);
  const model = AttentionModel.fromParameters(checkpoint.options, checkpoint.params);
  const split = await openSplit(datasetDir, splitName, {
    locations: model.options.locations,
    ctxDim: model.options.ctxDim,
    multilabel: model.options.multilabel,
    nClasses: model.options.nActions,
  });
  const progress = new ProgressLine();
  const started = performance.now();
  let result: EvaluationResult;
  const keepSteps = values.steps ? true : values['no-steps'] ? false : keepStepsByDefault;
  try {
    result = await evaluateSplit(model, split, {
      maxlen,
      stride,
      lastN,
      batchSize,
      // --boxes needs every step's attention; the report keeps it only when asked to.
      keepSteps: keepSteps || values.boxes !== undefined,
      onProgress: (done, total) => {
        const rate = done / ((performance.now() - started) / 1000);
        progress.update(
          splitName,
          done / total,
          `${done}/${total} clips ${rate.toFixed(1)} clips/s ETA ${formatDuration((total - done) / rate)}`,
        );
      },
    });
  } finally {
    progress.done();
    split.close();
  }
  let metrics: EvaluationResult['metrics'] & { attentionOnActor?: AttentionOnActor } = result.metrics;
  if (values.boxes !== undefined) {
    const onActor = await attentionOnActor(
      result.videos.map((v) => ({
        file: v.file,
        frames: split.videos[v.index].frames,
        clips: v.clips.map((c) => ({ start: c.start, alpha: c.alpha ?? [] })),
      })),
      { boxesDir: values.boxes, locations: model.options.locations, featureFps: split.info?.fps },
    );
    metrics = { ...metrics, attentionOnActor: onActor };
    process.stdout.write(
      `attention on actor: ${(onActor.massInside * 100).toFixed(1)}% of the mass on ${(onActor.areaInside * 100).toFixed(1)}% of the frame, ratio ${onActor.ratio.toFixed(2)}\n`,
    );
    if (!keepSteps) {
      for (const clip of result.videos.flatMap((v) => v.clips)) {
        delete clip.probs;
        delete clip.alpha;
      }
    }
  }
  const classNames = checkpoint.classNames.length > 0 ? checkpoint.classNames : split.classNames;
  const report = {
    model: { path: modelPath, options: model.options, classNames, backend: backend.name },
    dataset: { dir: datasetDir, split: splitName },
    settings: { maxlen, stride, lastN },
    videos: result.videos,
    metrics,
  };
  await writeFileAtomic(outPath, JSON.stringify(report));
  const m = result.metrics;
  const headline =
    m.mAP !== undefined
      ? `mAP ${(m.mAP * 100).toFixed(2)}%`
      : `accuracy ${((m.accuracy ?? 0) * 100).toFixed(2)}%`;
  process.stdout.write(`${result.videos.length} videos, ${headline} → ${outPath}\n`);
  model.dispose();
  return 0;
}
