import { cpSync, mkdtempSync, rmSync, symlinkSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error scripts/build.mjs is plain JavaScript (it runs before anything is compiled) and has no types.
import * as buildScript from '../scripts/build.mjs';

const { build, staleReason } = buildScript as {
  build(root: string): Promise<void>;
  staleReason(root: string): string | undefined;
};

const ROOT = path.resolve(import.meta.dirname, '..');

describe('npm start builds dist/ only when it must', () => {
  // A copy of what the build reads, so that this test never rebuilds the dist/ other test files run.
  const root = mkdtempSync(path.join(tmpdir(), 'cdr-build-'));
  for (const entry of ['src', 'scripts/build.mjs', 'package.json', 'package-lock.json']) {
    cpSync(path.join(ROOT, entry), path.join(root, entry), { recursive: true, preserveTimestamps: true });
  }
  symlinkSync(path.join(ROOT, 'node_modules'), path.join(root, 'node_modules'), 'dir');
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('builds when dist/ is missing, then starts without building while nothing changed', async () => {
    expect(staleReason(root)).toBe('dist/ has not been built');
    await build(root);
    expect(staleReason(root)).toBeUndefined();
  });

  it('builds again when a file under src/ is newer than the last build', async () => {
    // Edited after the last build (which took far more than this millisecond) but before the next one.
    const edited = new Date(Date.now() - 1);
    utimesSync(path.join(root, 'src', 'errors.ts'), edited, edited);
    expect(staleReason(root)).toBe('src changed since dist/ was built');
    await build(root);
    expect(staleReason(root)).toBeUndefined();
  });

  it('does not try to build where there is no src/ (an image holds dist/ alone)', () => {
    const image = mkdtempSync(path.join(tmpdir(), 'cdr-image-dist-'));
    try {
      expect(staleReason(image)).toBeUndefined();
    } finally {
      rmSync(image, { recursive: true, force: true });
    }
  });
});
