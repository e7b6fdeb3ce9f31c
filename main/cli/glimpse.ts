/** `glimpse <command>`: dispatch, help, and the one-line error contract (no stack traces, exit ≠ 0). */
import { benchCommand } from './bench.ts';
import { type Command, describeError, UsageError } from './command.ts';
import { evaluateCommand } from './evaluate.ts';
import { exportCommand } from './export.ts';
import { extractCommand } from './extract.ts';
import { importCommand } from './import.ts';
import { predictCommand } from './predict.ts';
import { serveCommand } from './serve.ts';
import { synthCommand } from './synth.ts';
import { trainCommand } from './train.ts';
import { workerCommand } from './worker.ts';

const COMMANDS: Command[] = [
  predictCommand,
  evaluateCommand,
  trainCommand,
  exportCommand,
  synthCommand,
  extractCommand,
  importCommand,
  benchCommand,
  serveCommand,
  workerCommand,
];

function overview(): string {
  const width = Math.max(...COMMANDS.map((c) => c.name.length));
  return `glimpse: soft-attention action recognition (Sharma et al. 2015)

usage: glimpse <command> [options]     glimpse <command> --help

${COMMANDS.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`).join('\n')}
`;
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === '--help' || name === '-h' || name === 'help') {
    process.stdout.write(overview());
    return name ? 0 : 2;
  }
  const command = COMMANDS.find((c) => c.name === name);
  if (!command) {
    process.stderr.write(`glimpse: unknown command '${name}' (see glimpse --help)\n`);
    return 2;
  }
  try {
    return await command.run(rest);
  } catch (err) {
    if (err instanceof UsageError) {
      process.stderr.write(`glimpse ${name}: ${err.message} (see glimpse ${name} --help)\n`);
      return 2;
    }
    process.stderr.write(`glimpse ${name}: ${describeError(err)}\n`);
    return 1;
  }
}
