import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

/** The code under test: where the server and simulator run from, and which commit that is. */
export interface Source {
  dir: string;
  commit: string;
  /** Uncommitted paths in that directory; always 0 for an exported commit. */
  dirtyFiles: number;
  exported: boolean;
  /** Deletes an exported copy; does nothing for the working tree. */
  remove(): void;
}

const git = (cwd: string, args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', timeout: 30_000 }).trim();

/**
 * The working tree, or with `ref` a clean copy of that commit in a temporary directory sharing this checkout's
 * node_modules, so a benchmark can measure a known commit while others edit the working tree.
 */
export function prepareSource(repoRoot: string, ref: string | undefined): Source {
  if (ref === undefined) {
    let commit = 'unknown';
    let dirtyFiles = 0;
    try {
      commit = git(repoRoot, ['rev-parse', '--short', 'HEAD']);
      dirtyFiles = git(repoRoot, ['status', '--porcelain']).split('\n').filter(Boolean).length;
    } catch {
      // Not a git checkout: the report says "unknown".
    }
    return { dir: repoRoot, commit, dirtyFiles, exported: false, remove() {} };
  }
  const commit = git(repoRoot, ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`]);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'carrierx-bench-'));
  const remove = () => rmSync(dir, { recursive: true, force: true });
  try {
    const archive = execFileSync('git', ['archive', '--format=tar', commit], {
      cwd: repoRoot,
      maxBuffer: 256 * 1024 * 1024,
      timeout: 60_000,
    });
    execFileSync('tar', ['-x', '-C', dir], { input: archive, timeout: 60_000 });
    symlinkSync(path.join(repoRoot, 'node_modules'), path.join(dir, 'node_modules'), 'dir');
  } catch (error) {
    remove();
    throw error;
  }
  return { dir, commit: commit.slice(0, 7), dirtyFiles: 0, exported: true, remove };
}
