import { test } from 'node:test';
import assert from 'node:assert/strict';
import { describeInputFailure, fileArg, lastToolLine, StderrTail } from './tool-process.ts';

test('StderrTail keeps the last lines across chunk boundaries and counts all', () => {
  const tail = new StderrTail(2);
  tail.push('first li');
  tail.push('ne\nsecond\r\n\nthird\nfour');
  assert.deepEqual(tail.lines(), ['second', 'third', 'four']);
  assert.equal(tail.count(), 4);
  tail.push('th\n');
  assert.deepEqual(tail.lines(), ['third', 'fourth']);
});

test('lastToolLine drops the repeated file name, the codec address and "Conversion failed!"', () => {
  const file = '/tmp/x/clip.avi';
  assert.equal(
    lastToolLine(file, [`file:${file}: Invalid data found when processing input`, 'Conversion failed!']),
    'Invalid data found when processing input',
  );
  assert.equal(lastToolLine(file, ['[mpeg4 @ 0x5607342d0b80] Error at MB: 107']), 'mpeg4: Error at MB: 107');
  assert.equal(lastToolLine(file, []), '');
});

test('describeInputFailure names the file and the kind of problem on one line', () => {
  const file = '/tmp/x/a.mp4';
  assert.equal(
    describeInputFailure(file, ["Stream map '0:v:0' matches no streams."], 'x'),
    `${file}: no video stream`,
  );
  assert.match(
    describeInputFailure(
      file,
      ['[mov @ 0x1] moov atom not found', `${file}: Invalid data found when processing input`],
      'x',
    ),
    /^\/tmp\/x\/a\.mp4: incomplete MP4\/MOV/,
  );
  assert.equal(
    describeInputFailure(file, [`file:${file}: Invalid data found when processing input`], 'x'),
    `${file}: not a readable video (Invalid data found when processing input)`,
  );
  assert.equal(
    describeInputFailure(file, ['something odd'], 'ffmpeg failed'),
    `${file}: ffmpeg failed (something odd)`,
  );
});

test('fileArg makes absolute file: URLs so odd names are not options or protocols', () => {
  assert.match(fileArg('-weird:name.avi'), /^file:\/.*\/-weird:name\.avi$/);
});
