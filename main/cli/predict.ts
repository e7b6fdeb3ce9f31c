import type { Command } from './command.ts';
import { EVALUATION_USAGE, runEvaluationCommand } from './evaluation-command.ts';

const usage = `glimpse predict --model M --dataset DIR --split S --out R.json [options]

Runs a model over every clip of a split and writes per-clip, per-step class probabilities and attention maps,
per-video predictions and the split's metrics.

${EVALUATION_USAGE}
  --no-steps         leave the per-step probabilities and attention out of the results
`;

export const predictCommand: Command = {
  name: 'predict',
  summary: 'per-clip, per-step predictions and attention for a split',
  usage,
  run: (argv) => runEvaluationCommand(argv, true, usage),
};
