import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APOLOGY_CLIP_SAMPLE_RATE_HZ, findPackageRoot, loadApologyClip } from '../../../src/audio/apology-clip.js';
import { mulawToPcm16 } from '../../../src/audio/g711.js';
import { rmsDbfs } from '../../../src/audio/pcm.js';

describe('loadApologyClip', () => {
  test('is 8 kHz μ-law speech of a few seconds, with 100 ms of 0xFF silence at both ends', () => {
    const clip = loadApologyClip();
    assert.equal(APOLOGY_CLIP_SAMPLE_RATE_HZ, 8000);
    const seconds = clip.length / 8000;
    assert.ok(seconds >= 2 && seconds <= 7, `${seconds} s`);
    assert.ok(clip.subarray(0, 800).every((byte) => byte === 0xff), 'leading silence');
    assert.ok(clip.subarray(clip.length - 800).every((byte) => byte === 0xff), 'trailing silence');
    const speech = mulawToPcm16(clip.subarray(800, clip.length - 800));
    const levelDbfs = rmsDbfs(speech);
    assert.ok(levelDbfs > -30 && levelDbfs < -10, `speech at ${levelDbfs.toFixed(1)} dBFS`);
  });

  test('fades in and out instead of starting or stopping with a click', () => {
    const clip = loadApologyClip();
    const first = mulawToPcm16(clip.subarray(800, 800 + 40));
    const last = mulawToPcm16(clip.subarray(clip.length - 800 - 40, clip.length - 800));
    for (const sample of [...first, ...last]) assert.ok(Math.abs(sample) < 2000, `edge sample ${sample}`);
  });

  test('is read once and cached', () => {
    assert.equal(loadApologyClip(), loadApologyClip());
  });
});

describe('findPackageRoot', () => {
  test('walks up to the nearest folder with a package.json', () => {
    const root = mkdtempSync(join(tmpdir(), 'koe-root-'));
    try {
      writeFileSync(join(root, 'package.json'), '{}');
      const deep = join(root, 'dist', 'audio');
      mkdirSync(deep, { recursive: true });
      assert.equal(findPackageRoot(deep), root);
      assert.equal(findPackageRoot(root), root);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test('finds this repository from src/audio', () => {
    const repository = new URL('../../..', import.meta.url).pathname.replace(/\/$/, '');
    assert.equal(findPackageRoot(join(repository, 'src', 'audio')), repository);
  });

  test('fails clearly when there is none', () => {
    assert.throws(() => findPackageRoot('/'), { message: /no package.json found in \/ or any folder above it/ });
  });
});
