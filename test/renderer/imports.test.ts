// The renderer's layering for the files ESLint does not read (.svelte) and the ones it does: only the
// renderer itself, common/, the UI packages, and type-only imports of the API and bridge types.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from '../support/cli.ts';

const SRC = path.join(REPO_ROOT, 'renderer/src');
const PACKAGES = new Set(['svelte', 'd3']);
const TYPE_ONLY = new Set(['main/engine/api.ts', 'main/electron/bridge.ts']);
const IMPORT = /(?:^|\n)\s*import\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/g;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) return sources(p);
    return /\.(svelte|ts)$/.test(e.name) ? [p] : [];
  });
}

function violations(file: string, text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(IMPORT)) {
    const [, typeOnly, spec] = m;
    if (!spec.startsWith('.')) {
      if (!PACKAGES.has(spec.split('/')[0])) out.push(`${file}: package ${spec}`);
      continue;
    }
    const target = path
      .relative(REPO_ROOT, path.resolve(path.dirname(file), spec))
      .split(path.sep)
      .join('/');
    if (target.startsWith('renderer/') || target.startsWith('common/')) continue;
    if (TYPE_ONLY.has(target) && typeOnly) continue;
    out.push(`${file}: ${typeOnly ? 'type ' : ''}import of ${target}`);
  }
  return out;
}

test('renderer sources import only the renderer, common/, svelte, d3 and the API types', () => {
  const files = sources(SRC);
  assert.ok(files.some((f) => f.endsWith('.svelte')) && files.some((f) => f.endsWith('.ts')));
  assert.deepEqual(
    files.flatMap((f) => violations(f, readFileSync(f, 'utf8'))),
    [],
  );
});

test('the check catches value imports of main/, Node modules and other packages', () => {
  const file = path.join(SRC, 'views/X.svelte');
  assert.deepEqual(
    violations(
      file,
      [
        "import { GlimpseError } from '../../../main/engine/errors.ts';",
        "import { createEngine } from '../../../main/engine/api.ts';",
        "import { readFile } from 'node:fs';",
        "import 'electron';",
        "import type { X } from '../../../model/train.ts';",
        "import type { GlimpseApi } from '../../../main/engine/api.ts';",
        "import { colormapLut } from '../../../common/colormaps.ts';",
        "import * as d3 from 'd3';",
      ].join('\n'),
    ).map((v) => v.slice(file.length + 2)),
    [
      'import of main/engine/errors.ts',
      'import of main/engine/api.ts',
      'package node:fs',
      'package electron',
      'type import of model/train.ts',
    ],
  );
});
