#!/usr/bin/env node
// Runs the TypeScript CLI directly: tsx transpiles on load, so there is no build step to forget.
import './register.js';

const { main } = await import('../main/cli/glimpse.ts');
process.exitCode = await main(process.argv.slice(2));
