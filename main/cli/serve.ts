/** `glimpse serve`: browser mode (the renderer and the API on 127.0.0.1 behind a token). */
import { runBrowserMode } from '../server/browser-mode.ts';
import { type Command, intFlag, parseFlags, UsageError } from './command.ts';

const usage = `usage: glimpse serve [--port P] [--host H] [--workspace DIR] [--no-open]

Serves the Glimpse workstation to a web browser and prints its URL (with the access token).
  --port P          port to listen on (default 0: a free port)
  --host H          address to listen on (default 127.0.0.1; anything else is reachable from other machines)
  --workspace DIR   recent files, cached results and jobs (default: the platform's user-data folder)
  --no-open         do not open the system browser (also: GLIMPSE_NO_OPEN=1)
`;

export const serveFlags = {
  port: { type: 'string' },
  host: { type: 'string' },
  workspace: { type: 'string' },
  'no-open': { type: 'boolean' },
} as const;

/** Browser-mode options from serve's flags (also what `npm start` passes on when it falls back). */
export function browserModeFlags(argv: string[]) {
  const { values } = parseFlags(argv, serveFlags);
  const port = intFlag(values.port, 'port', 0, 0);
  if (port > 65535) throw new UsageError(`--port must be ≤ 65535, got ${port}`);
  return {
    help: values.help === true,
    port,
    host: values.host ?? '127.0.0.1',
    workspace: values.workspace,
    open: values['no-open'] !== true,
  };
}

export const serveCommand: Command = {
  name: 'serve',
  summary: 'browser mode: the workstation in a web browser (prints its URL)',
  usage,
  async run(argv) {
    const flags = browserModeFlags(argv);
    if (flags.help) {
      process.stdout.write(usage);
      return 0;
    }
    return runBrowserMode({ ...flags, stdout: process.stdout, stderr: process.stderr });
  },
};
