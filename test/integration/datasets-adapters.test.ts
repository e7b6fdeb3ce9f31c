// The dataset adapters on fake trees of real (tiny) video files in temp folders.
import assert from 'node:assert/strict';
import { link, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadFoldersDataset } from '../../main/datasets/folders.ts';
import { HOLLYWOOD2_ACTIONS, loadHollywood2Dataset } from '../../main/datasets/hollywood2.ts';
import { loadHmdb51Dataset } from '../../main/datasets/hmdb51.ts';
import { type DatasetManifest, getSplit, writeManifestFiles } from '../../main/datasets/manifest.ts';
import {
  checkGroupLeakage,
  loadUcf11Dataset,
  UCF11_CLASSES,
  ucf11GroupOf,
} from '../../main/datasets/ucf11.ts';
import { encodeFrames } from '../../main/media/encode.ts';

let tmp = '';
let sample = '';
let counter = 0;

before(async () => {
  tmp = await mkdtemp(path.join(os.tmpdir(), 'glimpse-datasets-'));
  sample = path.join(tmp, 'sample.avi');
  const frame = new Uint8Array(16 * 16 * 3).fill(90);
  await encodeFrames(sample, { width: 16, height: 16, fps: 30, codec: 'mpeg4' }, [frame, frame]);
});
after(() => rm(tmp, { recursive: true, force: true }));

async function freshRoot(): Promise<string> {
  const dir = path.join(tmp, `root${counter++}`);
  await mkdir(dir);
  return dir;
}

async function putVideo(root: string, rel: string): Promise<void> {
  await mkdir(path.dirname(path.join(root, rel)), { recursive: true });
  await link(sample, path.join(root, rel)); // a hard link: a real video file, made in no time
}

const files = (m: DatasetManifest, split: string) => getSplit(m, split).videos.map((v) => v.file);

describe('UCF-11', () => {
  const groups = [1, 2, 3, 4, 5, 6, 16, 17];
  async function ucfTree(): Promise<string> {
    const root = await freshRoot();
    for (const [c, action] of UCF11_CLASSES.entries()) {
      const token = action.split('_')[0];
      for (const g of groups) {
        for (const clip of [1, 2]) {
          const gg = String(g).padStart(2, '0');
          const name = `v_${token}_${gg}_0${clip}.avi`;
          // Half the classes keep the group folders, half have their clips directly in the action folder.
          await putVideo(root, c % 2 ? `${action}/v_${token}_${gg}/${name}` : `${action}/${name}`);
        }
      }
    }
    return root;
  }

  test('fixed split: groups 16-25 are test, valid is whole groups from train, nothing leaks', async () => {
    const root = await ucfTree();
    const m = await loadUcf11Dataset(root, { seed: 4 });
    assert.equal(m.classes.length, 11);
    const groupsOf = (split: string) => new Set(files(m, split).map((f) => ucf11GroupOf(f)?.group));
    assert.deepEqual(
      [...groupsOf('test')].sort((a, b) => (a ?? 0) - (b ?? 0)),
      [16, 17],
    );
    assert.equal(files(m, 'test').length, 11 * 2 * 2);
    const valid = groupsOf('valid');
    assert.equal(valid.size, 1, 'about 15% of 6 training groups is one group');
    for (const g of valid) assert.ok(!groupsOf('train').has(g));
    assert.equal(files(m, 'train').length + files(m, 'valid').length, 11 * 6 * 2);
    checkGroupLeakage(m);
    const label = getSplit(m, 'test').videos.find((v) => v.file.startsWith('walking/'))?.label;
    assert.equal(label, 10);
    assert.deepEqual(await loadUcf11Dataset(root, { seed: 4 }), m);
  });

  test('leave-one-group-out: the fold is the test group', async () => {
    const root = await ucfTree();
    const m = await loadUcf11Dataset(root, {
      protocol: { kind: 'leave-one-group-out', fold: 3 },
      validFraction: 0.3,
    });
    assert.ok(files(m, 'test').every((f) => ucf11GroupOf(f)?.group === 3));
    assert.equal(files(m, 'test').length, 22);
    assert.ok(
      files(m, 'valid').length >= 22 * 2 && files(m, 'valid').every((f) => ucf11GroupOf(f)?.group !== 3),
    );
    checkGroupLeakage(m.splits);
    await assert.rejects(
      loadUcf11Dataset(root, { protocol: { kind: 'leave-one-group-out', fold: 9 } }),
      /no UCF-11 clips in test group\(s\) 9/,
    );
    await assert.rejects(
      loadUcf11Dataset(root, { protocol: { kind: 'leave-one-group-out', fold: 26 } }),
      /fold must be 1\.\.25/,
    );
  });

  test('leakage check names the group and both splits', () => {
    const leaky = [
      { name: 'train', videos: [{ file: 'biking/v_biking_04/v_biking_04_01.avi', label: 1 }] },
      { name: 'test', videos: [{ file: 'biking/v_biking_04/v_biking_04_02.avi', label: 1 }] },
    ];
    assert.throws(() => checkGroupLeakage(leaky), /group biking\/04 appears in splits 'train' .* and 'test'/);
    // The same group number in two actions is two different groups.
    checkGroupLeakage([
      leaky[0],
      { name: 'test', videos: [{ file: 'diving/v_diving_04_02.avi', label: 2 }] },
    ]);
  });

  test('bad trees give one-line errors naming the path', async () => {
    await assert.rejects(loadUcf11Dataset(path.join(tmp, 'nope')), (err: Error) => {
      assert.match(err.message, /nope: UCF-11 folder does not exist$/);
      return true;
    });
    const unknown = await ucfTree();
    await mkdir(path.join(unknown, 'juggling'));
    await assert.rejects(loadUcf11Dataset(unknown), /juggling: unknown UCF-11 class folder/);
    const empty = await ucfTree();
    await rm(path.join(empty, 'swing'), { recursive: true });
    await mkdir(path.join(empty, 'swing'));
    await assert.rejects(loadUcf11Dataset(empty), /swing: UCF-11 class 'swing' has no videos/);
    const missing = await ucfTree();
    await rm(path.join(missing, 'diving'), { recursive: true });
    await assert.rejects(loadUcf11Dataset(missing), /diving: UCF-11 class folder is missing/);
    const badName = await ucfTree();
    await putVideo(badName, 'golf_swing/golf.avi');
    await assert.rejects(loadUcf11Dataset(badName), /golf_swing\/golf\.avi: cannot tell the UCF-11 group/);
  });
});

describe('HMDB-51', () => {
  const classes = ['brush_hair', 'cartwheel', 'kiss'];
  async function hmdbTree(): Promise<string> {
    const root = await freshRoot();
    const splits = path.join(root, 'testTrainMulti_7030_splits');
    await mkdir(splits);
    for (const name of classes) {
      const lines: string[] = [];
      const lines2: string[] = [];
      for (let source = 0; source < 10; source++) {
        for (const clip of [0, 1]) {
          const video = `Source${source}_${name}_f_nm_np1_fr_med_${clip}.avi`;
          await putVideo(root, `${name}/${video}`);
          // Sources 0-5 train, 6-8 test, 9 unused in split 1; split 2 swaps sources 0 and 6.
          const use1 = source < 6 ? 1 : source < 9 ? 2 : 0;
          const use2 = source === 0 ? 2 : source === 6 ? 1 : use1;
          lines.push(`${video} ${use1} `);
          lines2.push(`${video} ${use2}`);
        }
      }
      await writeFile(path.join(splits, `${name}_test_split1.txt`), lines.join('\r\n') + '\r\n');
      await writeFile(path.join(splits, `${name}_test_split2.txt`), lines2.join('\n'));
    }
    return root;
  }

  test('official split with validation by source video, never the test set', async () => {
    const root = await hmdbTree();
    const m = await loadHmdb51Dataset(root, { seed: 1 });
    assert.deepEqual(m.classes, classes);
    assert.equal(files(m, 'test').length, 3 * 3 * 2);
    assert.equal(files(m, 'train').length + files(m, 'valid').length, 3 * 6 * 2);
    assert.ok(files(m, 'test').every((f) => /Source[678]_/.test(f)));
    assert.ok(
      ![...files(m, 'train'), ...files(m, 'valid'), ...files(m, 'test')].some((f) => f.includes('Source9_')),
    );
    const source = (f: string) => f.replace(/_\d\.avi$/, '');
    const trainSources = new Set(files(m, 'train').map(source));
    assert.ok(files(m, 'valid').length >= 3 * 2, 'each class holds out at least one source');
    assert.ok(
      files(m, 'valid').every((f) => !trainSources.has(source(f))),
      'clips of one source stay together',
    );
    assert.ok(files(m, 'valid').every((f) => !files(m, 'test').includes(f)));
    const m2 = await loadHmdb51Dataset(root, { split: 2, seed: 1 });
    assert.ok(files(m2, 'test').some((f) => f.includes('Source0_')));
    assert.ok(!files(m2, 'test').some((f) => f.includes('Source6_')));
    await assert.rejects(
      loadHmdb51Dataset(root, { split: 3 }),
      /no HMDB-51 split files <class>_test_split3\.txt/,
    );
    await assert.rejects(loadHmdb51Dataset(root, { split: 4 }), /split must be 1, 2 or 3/);
  });

  test('bad trees give one-line errors naming the path', async () => {
    const missingVideo = await hmdbTree();
    await rm(path.join(missingVideo, 'kiss', 'Source2_kiss_f_nm_np1_fr_med_1.avi'));
    await assert.rejects(
      loadHmdb51Dataset(missingVideo),
      /kiss_test_split1\.txt:6: names .*kiss\/Source2_kiss_f_nm_np1_fr_med_1\.avi, which does not exist/,
    );
    const unknown = await hmdbTree();
    await mkdir(path.join(unknown, 'dance'));
    await assert.rejects(loadHmdb51Dataset(unknown), /dance: unknown HMDB-51 class folder/);
    const noFolder = await hmdbTree();
    await rm(path.join(noFolder, 'cartwheel'), { recursive: true });
    await assert.rejects(loadHmdb51Dataset(noFolder), /cartwheel: HMDB-51 class folder for .* is missing/);
    const noTest = await hmdbTree();
    const file = path.join(noTest, 'testTrainMulti_7030_splits', 'kiss_test_split1.txt');
    await writeFile(file, (await readFile(file, 'utf8')).replace(/ 2 /g, ' 0 '));
    await assert.rejects(
      loadHmdb51Dataset(noTest),
      /kiss_test_split1\.txt: class 'kiss' has 12 training and 0 test videos/,
    );
    const badLine = await hmdbTree();
    await writeFile(
      path.join(badLine, 'testTrainMulti_7030_splits', 'kiss_test_split1.txt'),
      'a.avi 0\nb.avi train\n',
    );
    await assert.rejects(loadHmdb51Dataset(badLine), /kiss_test_split1\.txt:2: expected '<video> 0\|1\|2'/);
    await assert.rejects(loadHmdb51Dataset(await freshRoot()), /no HMDB-51 split files/);
  });
});

describe('Hollywood2', () => {
  const train = [
    'actioncliptrain00001',
    'actioncliptrain00002',
    'actioncliptrain00003',
    'actioncliptrain00004',
    'actioncliptrain00005',
    'actioncliptrain00006',
    'actioncliptrain00007',
  ];
  const test_ = ['actioncliptest00001', 'actioncliptest00002', 'actioncliptest00003'];
  // Train clip i is positive for actions i, i + 5 and i + 10 (mod 12); test clip i for i, i + 3, i + 6, i + 9.
  const positive = (set: string[], i: number, c: number) =>
    (set === train ? [i % 12, (i + 5) % 12, (i + 10) % 12] : [i, i + 3, i + 6, i + 9]).includes(c);
  async function h2Tree(): Promise<string> {
    const root = await freshRoot();
    await mkdir(path.join(root, 'ClipSets'), { recursive: true });
    for (const clip of [...train, ...test_]) await putVideo(root, `AVIClips/${clip}.avi`);
    for (const [c, action] of HOLLYWOOD2_ACTIONS.entries()) {
      for (const [set, clips] of [
        ['train', train],
        ['test', test_],
      ] as const) {
        const lines = clips.map((clip, i) => `${clip}  ${positive(clips, i, c) ? 1 : -1}`);
        await writeFile(path.join(root, 'ClipSets', `${action}_${set}.txt`), lines.join('\n') + '\n');
      }
    }
    return root;
  }

  test('official sets, 12 flags in the reference order, 15% validation from train', async () => {
    const root = await h2Tree();
    const m = await loadHollywood2Dataset(root, { seed: 2 });
    assert.equal(m.multilabel, true);
    assert.deepEqual(m.classes.slice(0, 3), ['AnswerPhone', 'DriveCar', 'Eat']);
    assert.equal(files(m, 'valid').length, 1);
    assert.equal(files(m, 'train').length, 6);
    assert.deepEqual(
      files(m, 'test'),
      test_.map((c) => `AVIClips/${c}.avi`),
    );
    const first = getSplit(m, 'test').videos[0].label;
    assert.deepEqual(first, [1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0]);
    const all = [...getSplit(m, 'train').videos, ...getSplit(m, 'valid').videos];
    const clip2 = all.find((v) => v.file === 'AVIClips/actioncliptrain00002.avi');
    assert.deepEqual(clip2?.label, [0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1]);
  });

  test('bad trees give one-line errors naming the path', async () => {
    const missingClip = await h2Tree();
    await rm(path.join(missingClip, 'AVIClips', 'actioncliptest00002.avi'));
    await assert.rejects(
      loadHollywood2Dataset(missingClip),
      /AnswerPhone_test\.txt: names clip actioncliptest00002, but .*AVIClips\/actioncliptest00002\.avi does not exist/,
    );
    const missingSet = await h2Tree();
    await rm(path.join(missingSet, 'ClipSets', 'Kiss_train.txt'));
    await assert.rejects(
      loadHollywood2Dataset(missingSet),
      /ClipSets\/Kiss_train\.txt: Hollywood2 clip set does not exist/,
    );
    const uneven = await h2Tree();
    await writeFile(
      path.join(uneven, 'ClipSets', 'Run_test.txt'),
      'actioncliptest00001 1\nactioncliptest00002 -1\n',
    );
    await assert.rejects(
      loadHollywood2Dataset(uneven),
      /Run_test\.txt: clip actioncliptest00003 of .*AnswerPhone_test\.txt is not listed/,
    );
    const noPositive = await h2Tree();
    await writeFile(
      path.join(noPositive, 'ClipSets', 'Eat_test.txt'),
      test_.map((c) => `${c} -1`).join('\n'),
    );
    await assert.rejects(
      loadHollywood2Dataset(noPositive),
      /Eat_test\.txt: action 'Eat' has no positive clips in the test set/,
    );
    await assert.rejects(
      loadHollywood2Dataset(await freshRoot()),
      /AVIClips: Hollywood2 clip folder does not exist/,
    );
  });
});

describe('folder per class', () => {
  async function folderTree(): Promise<string> {
    const root = await freshRoot();
    for (const name of ['b_walk', 'a_run', 'c_jump']) {
      for (let i = 0; i < 10; i++) await putVideo(root, `${name}/clip${i}.avi`);
      await writeFile(path.join(root, name, 'notes.txt'), 'not a video');
    }
    await writeFile(path.join(root, 'README.txt'), 'ignored');
    return root;
  }

  test('stratified fractions by seed, sorted class names, reference files written', async () => {
    const root = await folderTree();
    const m = await loadFoldersDataset(root, { seed: 3, fractions: { train: 0.6, valid: 0.2, test: 0.2 } });
    assert.deepEqual(m.classes, ['a_run', 'b_walk', 'c_jump']);
    for (const split of ['train', 'valid', 'test']) {
      const counts = [0, 1, 2].map((c) => getSplit(m, split).videos.filter((v) => v.label === c).length);
      assert.deepEqual(counts, split === 'train' ? [6, 6, 6] : [2, 2, 2]);
    }
    assert.deepEqual(
      await loadFoldersDataset(root, { seed: 3, fractions: { train: 0.6, valid: 0.2, test: 0.2 } }),
      m,
    );
    const other = await loadFoldersDataset(root, {
      seed: 4,
      fractions: { train: 0.6, valid: 0.2, test: 0.2 },
    });
    assert.notDeepEqual(files(other, 'test'), files(m, 'test'));
    const out = path.join(tmp, `out${counter++}`);
    await mkdir(out);
    await writeManifestFiles(out, m);
    const lines = (await readFile(path.join(out, 'test_filename.txt'), 'utf8')).split('\n');
    assert.equal(lines.length, 7);
    assert.equal(lines[6], '');
    const labels = (await readFile(path.join(out, 'test_labels.txt'), 'utf8')).trim().split('\n').map(Number);
    assert.deepEqual(
      labels,
      getSplit(m, 'test').videos.map((v) => v.label),
    );
  });

  test('bad trees give one-line errors naming the path', async () => {
    await assert.rejects(loadFoldersDataset(await freshRoot()), /no class folders/);
    const empty = await folderTree();
    await mkdir(path.join(empty, 'd_sit'));
    await assert.rejects(loadFoldersDataset(empty), /d_sit: class 'd_sit' has no videos/);
    const root = await folderTree();
    await assert.rejects(
      loadFoldersDataset(root, { classes: ['a_run', 'b_walk'] }),
      /c_jump: unknown class folder/,
    );
    await assert.rejects(
      loadFoldersDataset(root, { fractions: { train: 0.5, valid: 0.2, test: 0.2 } }),
      /sum to 1/,
    );
    await assert.rejects(loadFoldersDataset(sample), /sample\.avi: video folder is not a folder/);
  });
});
