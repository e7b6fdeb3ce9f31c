/**
 * The layering lint rules (eslint.config.js, one block per folder) on small snippets at virtual paths: each
 * forbidden import is reported by no-restricted-imports, each allowed one is not.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ESLint } from 'eslint';
import { REPO_ROOT } from '../support/cli.ts';

const eslint = new ESLint({ cwd: REPO_ROOT });

/** The layering complaints ESLint makes about `code` placed at `file` (repo-relative). */
async function layeringErrors(file: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(`${code}\nexport const used = 1;\n`, {
    filePath: `${REPO_ROOT}${file}`,
  });
  return result.messages
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

/** [file, import line, forbidden?] */
const CASES: [string, string, boolean][] = [
  ['common/x.ts', "import { AttentionModel } from '../model/model.ts';", true],
  ['common/x.ts', "import { readFile } from 'node:fs';", true],
  ['common/x.ts', "import seedrandom from 'seedrandom';", true],
  ['common/x.ts', "import { GlimpseError } from '../main/engine/errors.ts';", true],
  ['common/x.ts', "import { argmax } from './metrics.ts';", false],
  ['common/x.ts', "import type { GlimpseApi } from '../main/engine/api.ts';", false],
  ['common/x.test.ts', "import { test } from 'node:test';", false],
  ['common/x.test.ts', "import { runGlimpse } from '../test/support/cli.ts';", true],
  ['model/data/x.ts', "import { loadBackbone } from '../../main/features/backbone.ts';", true],
  ['model/x.ts', "import { app } from 'electron';", true],
  ['model/x.ts', "import { mount } from '../renderer/src/main.ts';", true],
  ['model/data/x.ts', "import { DEFAULT_MODEL_OPTIONS } from '../../common/options.ts';", false],
  ['model/data/x.ts', "import { readCheckpoint } from '../checkpoint/index.ts';", false],
  ['model/x.ts', "import seedrandom from 'seedrandom';", false],
  ['main/media/x.ts', "import { extractFeatures } from '../features/extract.ts';", true],
  ['main/media/x.ts', "import { writeFileAtomic } from '../../model/atomic-file.ts';", false],
  ['main/datasets/x.ts', "import { runTraining } from '../workflows/training.ts';", true],
  ['main/datasets/x.ts', "import { decodeFrames } from '../media/decode.ts';", false],
  ['main/features/x.ts', "import { runTraining } from '../workflows/training.ts';", true],
  ['main/features/x.ts', "import { GlimpseError } from '../engine/errors.ts';", true],
  ['main/features/x.ts', "import { decodeFrames } from '../media/decode.ts';", false],
  ['main/workflows/x.ts', "import { GlimpseError } from '../engine/errors.ts';", true],
  ['main/workflows/x.ts', "import { UsageError } from '../cli/command.ts';", true],
  ['main/workflows/x.ts', "import { extractFeatures } from '../features/extract.ts';", false],
  ['main/engine/x.ts', "import { UsageError } from '../cli/command.ts';", true],
  ['main/engine/x.ts', "import { serve } from '../server/browser-mode.ts';", true],
  ['main/engine/x.ts', "import { menu } from '../electron/menu.ts';", true],
  ['main/engine/x.ts', "import { runTraining } from '../workflows/training.ts';", false],
  ['main/server/x.ts', "import { UsageError } from '../cli/command.ts';", true],
  ['main/server/x.ts', "import { menu } from '../electron/menu.ts';", true],
  ['main/server/x.ts', "import { GlimpseError } from '../engine/errors.ts';", false],
  ['main/cli/x.ts', "import { BrowserWindow } from 'electron';", true],
  ['test/integration/x.test.ts', "import { app } from 'electron';", true],
  ['main/electron/x.ts', "import { BrowserWindow } from 'electron';", false],
  ['renderer/src/lib/x.ts', "import { GlimpseError } from '../../../main/engine/errors.ts';", true],
  ['renderer/src/lib/x.ts', "import { something } from '../../../main/engine/api.ts';", true],
  ['renderer/src/lib/x.ts', "import { AttentionModel } from '../../../model/model.ts';", true],
  ['renderer/src/lib/x.ts', "import { readFile } from 'node:fs';", true],
  ['renderer/src/lib/x.ts', "import { readFile } from 'fs';", true],
  ['renderer/src/lib/x.ts', "import { ipcRenderer } from 'electron';", true],
  ['renderer/src/lib/x.ts', "import type { InspectResult } from '../../../main/engine/api.ts';", false],
  ['renderer/src/lib/x.ts', "import { normaliseMap } from '../../../common/colormaps.ts';", false],
  ['renderer/src/lib/x.ts', "import * as d3 from 'd3';", false],
  ['renderer/src/lib/x.ts', "import { route } from './route.ts';", false],
];

test('layering: forbidden imports are reported, allowed ones are not', async () => {
  const wrong: string[] = [];
  for (const [file, line, forbidden] of CASES) {
    const errors = await layeringErrors(file, line);
    if (forbidden && errors.length === 0) wrong.push(`${file}: not reported: ${line}`);
    if (!forbidden && errors.length > 0) wrong.push(`${file}: reported: ${line} (${errors.join('; ')})`);
  }
  assert.deepEqual(wrong, []);
});

test('a violation names the rule of its folder', async () => {
  const [message] = await layeringErrors(
    'main/workflows/x.ts',
    "import { GlimpseError } from '../engine/errors.ts';",
  );
  assert.match(message, /main\/workflows never reaches up/);
});
