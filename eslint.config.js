import { builtinModules } from 'node:module';
import tseslint from 'typescript-eslint';

/*
 * Layering (DESIGN.md "Layout"): one `no-restricted-imports` block per folder. A later block replaces the
 * rule for its files, so every block carries the whole list for its folder (the `electron` package
 * included). Imports are matched as written: relative paths, any number of `../`.
 */

/** A relative import that reaches one of `folders` (repo paths; `main/x` may be written `../x` from main/). */
function reaching(folders) {
  const alternatives = folders.map((f) => (f.startsWith('main/') ? `(main/)?${f.slice(5)}` : f));
  return `^(\\.\\./)+(${alternatives.join('|')})(/|\\.ts$|$)`;
}

const ELECTRON = { name: 'electron', message: 'only main/electron/ imports electron' };
const NODE_BUILTINS = builtinModules.map((name) => ({ name, message: 'no Node modules here' }));
const NODE_PREFIX = { regex: '^node:', message: 'no Node modules here' };

function layer(files, patterns, paths = [], ignores = []) {
  return {
    files,
    ignores,
    rules: {
      '@typescript-eslint/no-restricted-imports': ['error', { paths: [ELECTRON, ...paths], patterns }],
    },
  };
}

const notOurs = (message, folders) => ({ regex: reaching(folders), message });
const OUTSIDE_MAIN = ['model', 'renderer', 'test', 'assets', 'bin'];
/** main/engine/api.ts (and the Electron bridge's types): what the renderer may see of the Node side, types only. */
const API_TYPES = {
  regex: '^(\\.\\./)+main/(engine/api|electron/bridge)\\.ts$',
  allowTypeImports: true,
  message: 'only type imports of main/engine/api.ts reach across to the renderer and common/',
};

const LAYERS = [
  // Everything: the electron package only in main/electron.
  layer(['**/*.ts'], []),
  layer(
    ['common/**/*.ts'],
    [
      API_TYPES,
      notOurs('common/ imports nothing of ours outside common/', ['main', ...OUTSIDE_MAIN]),
      { regex: '^[^.]', message: 'common/ is Node-free and package-free (the renderer imports it)' },
    ],
  ),
  // Tests of common/ run under Node: they may use node:test and reference packages, not the rest of ours.
  layer(
    ['common/**/*.test.ts'],
    [notOurs('common/ imports nothing of ours outside common/', ['main', ...OUTSIDE_MAIN])],
  ),
  layer(
    ['model/**/*.ts'],
    [notOurs('model/ depends only on model/ and common/', ['main', 'renderer', 'test', 'assets', 'bin'])],
  ),
  layer(
    ['main/media/**/*.ts', 'main/datasets/**/*.ts'],
    [
      notOurs('main/media and main/datasets never reach up', [
        'main/features',
        'main/workflows',
        'main/engine',
        'main/cli',
        'main/server',
        'main/electron',
        'renderer',
      ]),
    ],
  ),
  layer(
    ['main/features/**/*.ts'],
    [
      notOurs('main/features never reaches up', [
        'main/workflows',
        'main/engine',
        'main/cli',
        'main/server',
        'main/electron',
        'renderer',
      ]),
    ],
  ),
  layer(
    ['main/workflows/**/*.ts'],
    [
      notOurs('main/workflows never reaches up', [
        'main/engine',
        'main/cli',
        'main/server',
        'main/electron',
        'renderer',
      ]),
    ],
  ),
  layer(
    ['main/engine/**/*.ts'],
    [notOurs('main/engine never reaches up', ['main/cli', 'main/server', 'main/electron', 'renderer'])],
  ),
  layer(
    ['main/server/**/*.ts'],
    [notOurs('main/server never reaches up', ['main/cli', 'main/electron', 'renderer'])],
  ),
  {
    files: ['main/electron/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': 'off' },
  },
  layer(
    ['renderer/**/*.ts'],
    [
      API_TYPES,
      {
        regex: '^(\\.\\./)+(main|model|test|assets|bin)(/|$)',
        message: 'the renderer imports only common/ and the API types (import type from main/engine/api.ts)',
      },
      NODE_PREFIX,
    ],
    NODE_BUILTINS,
    // Vite's own configuration runs under Node at build time.
    ['renderer/vite.config.ts'],
  ),
];

export default tseslint.config(
  { ignores: ['node_modules/', 'dist/', 'tmp/', 'renderer/dist/', '**/*.js'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  ...LAYERS,
);
