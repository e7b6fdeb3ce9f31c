/**
 * Regenerates the built-in backbone in assets/backbones/builtin/ from main/features/builtin-backbone.ts.
 * Deterministic: the filters are computed, not drawn, so the files only change when the design does.
 *
 *   node --import tsx assets/backbones/make-builtin.ts [outDir]
 */
import { writeBuiltinBackbone } from '../../main/features/builtin-backbone.ts';
import { BUILTIN_BACKBONE_DIR } from '../../main/features/backbone.ts';

const out = process.argv[2] ?? BUILTIN_BACKBONE_DIR;
const files = await writeBuiltinBackbone(out);
process.stdout.write(`${files.join('\n')}\n`);
