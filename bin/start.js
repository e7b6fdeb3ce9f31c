#!/usr/bin/env node
// `npm start`: the desktop app (Electron) where it can run, else browser mode; see main/cli/start.ts.
import './register.js';

const { main } = await import('../main/cli/start.ts');
process.exitCode = await main(process.argv.slice(2));
