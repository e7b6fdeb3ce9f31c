import type { Command } from './command.ts';
import { EVALUATION_USAGE, runEvaluationCommand } from './evaluation-command.ts';

const usage = `glimpse evaluate --model M --dataset DIR --split S --out report.json [options]

Video-level evaluation as the reference: clip prediction from the summed probabilities of the last n steps,
majority vote over a video's clips (ties to the lowest class id); accuracy, per-class accuracy and the
confusion matrix, or per-class AP and mAP for multi-label models.

${EVALUATION_USAGE}
  --steps            include per-step probabilities and attention in the report
`;

export const evaluateCommand: Command = {
  name: 'evaluate',
  summary: 'accuracy / confusion or AP / mAP for a split',
  usage,
  run: (argv) => runEvaluationCommand(argv, false, usage),
};
