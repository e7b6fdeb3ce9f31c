import { readCheckpoint, writeCheckpoint } from '../../model/checkpoint/index.ts';
import { choiceFlag, type Command, parseFlags, requireFlag, UsageError } from './command.ts';

const usage = `glimpse export --model M --format npz --out M.npz

Writes a model in the reference format: an .npz of parameters under the reference names plus the .npz.pkl
options (pickle protocol 2) that the released Theano code loads. Models trained with inverted dropout are
rescaled to the reference's non-inverted convention, so predictions stay the same.

  --model M      checkpoint to export (.h5 or .npz)
  --format F     npz (the reference format) or h5 (Glimpse's own)
  --out PATH     output file; its .pkl is written beside it for npz
`;

async function run(argv: string[]): Promise<number> {
  const { values } = parseFlags(argv, {
    model: { type: 'string' },
    format: { type: 'string' },
    out: { type: 'string' },
  });
  if (values.help) {
    process.stdout.write(usage);
    return 0;
  }
  const modelPath = requireFlag(values.model, 'model');
  const format = choiceFlag(values.format, 'format', ['npz', 'h5'] as const, 'npz');
  const out = requireFlag(values.out, 'out');
  if (!out.toLowerCase().endsWith(`.${format}`))
    throw new UsageError(`--out must end in .${format} for --format ${format}`);
  await writeCheckpoint(out, await readCheckpoint(modelPath));
  process.stdout.write(`${modelPath} → ${out}${format === 'npz' ? ` (+ ${out}.pkl)` : ''}\n`);
  return 0;
}

export const exportCommand: Command = {
  name: 'export',
  summary: 'write a model as a reference .npz (+ .pkl)',
  usage,
  run,
};
