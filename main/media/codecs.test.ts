import { test } from 'node:test';
import assert from 'node:assert/strict';
import { encoderArgs, muxerFor, pickEncoder, videoEncoders } from './codecs.ts';
import { locateFfmpeg } from './locate.ts';

test('muxerFor maps extensions, case-insensitively, and refuses unknown ones', () => {
  assert.equal(muxerFor('/a/b.MP4'), 'mp4');
  assert.equal(muxerFor('x.mkv'), 'matroska');
  assert.equal(muxerFor('x.webm'), 'webm');
  assert.equal(muxerFor('x.avi'), 'avi');
  assert.equal(muxerFor('x.gif'), null);
  assert.equal(muxerFor('dir.mp4/noext'), null);
});

test('encoderArgs: all-intra and deterministic settings', () => {
  const intra = encoderArgs('libx264', { keyframeInterval: 1, deterministic: false, fast: true });
  assert.deepEqual(intra.slice(0, 6), ['-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-g', '1']);
  assert.ok(intra.includes('-sc_threshold'));
  assert.ok(!intra.includes('-threads'));
  const exact = encoderArgs('mpeg4', { keyframeInterval: 12, deterministic: true });
  assert.deepEqual(exact.slice(-4), ['-threads', '1', '-flags:v', '+bitexact']);
  assert.equal(encoderArgs('ffv1', { keyframeInterval: 1, deterministic: true })[3], 'gbrp');
});

test('the located ffmpeg lists its encoders and has the ones we rely on', async () => {
  const { ffmpeg } = await locateFfmpeg();
  const encoders = await videoEncoders(ffmpeg);
  for (const name of ['mpeg4', 'mjpeg', 'ffv1']) assert.ok(encoders.has(name), name);
  assert.ok(!encoders.has('aac'), 'audio encoders are not listed');
  assert.ok(['libx264', 'libopenh264'].includes((await pickEncoder(ffmpeg, 'h264')) ?? ''));
});
