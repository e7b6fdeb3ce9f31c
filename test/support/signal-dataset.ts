/**
 * A small feature dataset written by h5py (gzip, chunked, reference layout) in which the class can only be read
 * at one location per video, marked by its first four channels; three distractor locations per frame carry
 * other classes' patterns. `signal.json` records the marked location of every video.
 */
import { runPython } from './cli.ts';

const MAKE_DATASET = `
import sys, json, numpy as np, h5py
out = sys.argv[1]
L, D, C, F = 16, 24, 4, 16
rng = np.random.RandomState(7)
protos = rng.randn(C, D - 4).astype(np.float32) * 1.5
def video(label):
    loc = rng.randint(L)
    x = np.maximum(rng.randn(F, L, D), 0).astype(np.float32) * 0.5
    x[:, loc, :4] += 3.0
    x[:, loc, 4:] += protos[label]
    for f in range(F):
        others = [l for l in range(L) if l != loc]
        for l in rng.choice(others, 3, replace=False):
            x[f, l, 4:] += protos[rng.randint(C)]
    return x, loc
signal = {}
for split, per in (('train', 24), ('valid', 6), ('test', 10)):
    labels = [c for c in range(C) for _ in range(per)]
    rng.shuffle(labels)
    rows, locs = [], []
    for y in labels:
        x, loc = video(y)
        rows.append(x.transpose(0, 2, 1).reshape(F, D * L))  # channel-major: (l, c) at l + L*c
        locs.append(int(loc))
    with h5py.File(f'{out}/{split}_features.h5', 'w') as h:
        h.create_dataset('features', data=np.concatenate(rows), maxshape=(None, L * D), chunks=(16, L * D), compression='gzip')
    open(f'{out}/{split}_framenum.txt', 'w').write(''.join(f'{F}\\n' for _ in labels))
    open(f'{out}/{split}_labels.txt', 'w').write(''.join(f'{y}\\n' for y in labels))
    open(f'{out}/{split}_filename.txt', 'w').write(''.join(f'v{i}.avi\\n' for i in range(len(labels))))
    signal[split] = locs
open(f'{out}/classes.txt', 'w').write('a\\nb\\nc\\nd\\n')
json.dump({'locations': L, 'ctxDim': D, 'layout': 'channel-major'}, open(f'{out}/dataset.json', 'w'))
json.dump(signal, open(f'{out}/signal.json', 'w'))
`;

export function makeSignalDataset(dir: string): void {
  runPython(MAKE_DATASET, [dir]);
}

/** `glimpse train` on a signal dataset with a small, quick model: the flags the resume and interop tests share. */
export function smallTrainArgs(dataset: string, out: string, epochs: number, seed: number): string[] {
  const flags =
    '--maxlen 8 --training-stride 4 --valid-stride 8 --dim 16 --dim-out 16 --optimizer adam --lrate 0.005 --batch-size 16';
  return [
    'train',
    '--dataset',
    dataset,
    '--out',
    out,
    ...flags.split(' '),
    '--epochs',
    String(epochs),
    '--seed',
    String(seed),
  ];
}
