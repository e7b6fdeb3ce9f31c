import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFfmpegInputReport, parseRate } from './probe.ts';

// Real `ffmpeg -i` reports: Debian's 5.1 and @ffmpeg-installer's 2018 static 4.x build.
const debianRotatedMp4 = `Input #0, mov,mp4,m4a,3gp,3g2,mj2, from 'file:/tmp/r.mp4':
  Metadata:
    major_brand     : isom
  Duration: 00:00:02.00, start: 0.000000, bitrate: 50 kb/s
  Stream #0:0[0x1](und): Video: h264 (High) (avc1 / 0x31637661), yuv420p(progressive), 320x240 [SAR 1:1 DAR 4:3], 45 kb/s, 25 fps, 25 tbr, 12800 tbn (default)
    Metadata:
      handler_name    : VideoHandler
    Side data:
      displaymatrix: rotation of 90.00 degrees
At least one output file must be specified`;

const installerWebmWithAudio = `Input #0, matroska,webm, from 'file:/tmp/c.webm':
  Metadata:
    ENCODER         : Lavf59.27.100
  Duration: 00:01:02.50, start: 0.000000, bitrate: 157 kb/s
    Stream #0:0: Video: vp8, yuv420p(tv, bt709, progressive), 640x360, SAR 1:1 DAR 16:9, 29.97 fps, 29.97 tbr, 1k tbn, 1k tbc (default)
    Stream #0:1: Audio: vorbis, 44100 Hz, stereo, fltp (default)
At least one output file must be specified`;

const audioWithCoverArt = `Input #0, mp3, from 'song.mp3':
  Duration: 00:03:00.00, start: 0.025057, bitrate: 320 kb/s
    Stream #0:0: Audio: mp3, 44100 Hz, stereo, fltp, 320 kb/s
    Stream #0:1: Video: mjpeg (Baseline), yuvj420p(pc, bt470bg/unknown/unknown), 500x500, 90k tbr, 90k tbn (attached pic)
At least one output file must be specified`;

test('parseFfmpegInputReport reads Debian 5.1 output, including the display matrix', () => {
  const r = parseFfmpegInputReport(debianRotatedMp4);
  assert.deepEqual(r, {
    container: 'mov,mp4,m4a,3gp,3g2,mj2',
    duration: 2,
    codec: 'h264',
    pixFmt: 'yuv420p',
    width: 320,
    height: 240,
    fps: 25,
    rotation: 270,
    hasVideo: true,
    hasAudio: false,
  });
});

test('parseFfmpegInputReport: commas inside parentheses, NTSC rates, audio, minutes', () => {
  const r = parseFfmpegInputReport(installerWebmWithAudio);
  assert.equal(r.container, 'matroska,webm');
  assert.equal(r.duration, 62.5);
  assert.equal(r.codec, 'vp8');
  assert.equal(r.pixFmt, 'yuv420p');
  assert.deepEqual([r.width, r.height], [640, 360]);
  assert.equal(r.fps, 30000 / 1001);
  assert.equal(r.hasAudio, true);
});

test('parseFfmpegInputReport does not take cover art for a video stream', () => {
  const r = parseFfmpegInputReport(audioWithCoverArt);
  assert.equal(r.hasVideo, false);
  assert.equal(r.hasAudio, true);
});

test('parseRate', () => {
  assert.equal(parseRate('25/1'), 25);
  assert.equal(parseRate('30000/1001'), 30000 / 1001);
  assert.equal(parseRate('0/0'), undefined);
  assert.equal(parseRate(undefined), undefined);
  assert.equal(parseRate('12'), 12);
});
