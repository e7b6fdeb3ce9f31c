/** `glimpse synth`: the synthetic action set (real video files and ground-truth actor boxes). */
import { generateSynthDataset, SYNTH_DESCRIPTION_FILE } from '../datasets/synth.ts';
import { type Command, intFlag, parseFlags, requireFlag } from './command.ts';

const usage = `glimpse synth --out DIR [--seed S] [--classes C] [--videos N] [--frames F]

Writes a synthetic action set: C classes, N videos each, folder per class (lossless FFV1 in Matroska), each
video with its actor's box in every frame (<video>.boxes.json), and ${SYNTH_DESCRIPTION_FILE}. The class is
readable only from the actor: every frame shows C moving sprites of the same size and colours, one per
class pattern, and the actor is the one with a bright border (the others' are dark), so the frame as a
whole looks alike in every class.
Same options and seed → identical files. Extract it with: glimpse extract --dataset-kind synth --videos DIR

  --out DIR        folder to create (empty, or an earlier synthetic set, which is replaced)
  --seed S         default 0
  --classes C      2..8, default 4
  --videos N       videos per class, default 12
  --frames F       frames per video (30 fps), default 40
`;

const FLAGS = {
  out: { type: 'string' },
  seed: { type: 'string' },
  classes: { type: 'string' },
  videos: { type: 'string' },
  frames: { type: 'string' },
} as const;

async function run(argv: string[]): Promise<number> {
  const { values: v } = parseFlags(argv, FLAGS);
  if (v.help) {
    process.stdout.write(usage);
    return 0;
  }
  const out = requireFlag(v.out, 'out');
  const started = performance.now();
  const set = await generateSynthDataset(out, {
    seed: v.seed ?? 0,
    classes: intFlag(v.classes, 'classes', 4, 2),
    videos: intFlag(v.videos, 'videos', 12),
    frames: intFlag(v.frames, 'frames', 40),
  });
  const seconds = (performance.now() - started) / 1000;
  process.stdout.write(
    `${set.videos.length} videos (${set.classes.join(', ')}), ${set.frames} frames of ${set.width}×${set.height} each, seed ${set.seed}, in ${seconds.toFixed(1)} s → ${out}\n`,
  );
  return 0;
}

export const synthCommand: Command = {
  name: 'synth',
  summary: 'synthetic action videos with ground-truth actor boxes',
  usage,
  run,
};
