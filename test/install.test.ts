import { readFileSync } from 'node:fs';
import semver from 'semver';
import { describe, expect, it } from 'vitest';

// The lockfile is exactly what `npm ci` installs, so checking it keeps the warnings of a clean install from
// coming back without spending a network install in the test run.
interface LockedPackage {
  version?: string;
  dev?: boolean;
  hasInstallScript?: boolean;
  engines?: Record<string, string> | string[];
}

const lock = JSON.parse(readFileSync(new URL('../package-lock.json', import.meta.url), 'utf8')) as {
  packages: Record<string, LockedPackage>;
};
const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  allowScripts?: Record<string, boolean>;
};

/** Every installed package with its name, from lockfile keys such as `node_modules/a/node_modules/@b/c`. */
const installed = Object.entries(lock.packages)
  .filter(([location]) => location.startsWith('node_modules/'))
  .map(([location, pkg]) => ({
    location,
    name: location.slice(location.lastIndexOf('node_modules/') + 'node_modules/'.length),
    ...pkg,
  }));

describe('a clean install', () => {
  it('puts one graphql, a 16.x, in the production tree, so schema and executor share its classes', () => {
    const versions = new Set(
      installed.filter((pkg) => pkg.name === 'graphql' && !pkg.dev).map((pkg) => pkg.version),
    );
    expect([...versions]).toHaveLength(1);
    expect(semver.satisfies(String([...versions][0]), '16.x')).toBe(true);
  });

  it('has every dependency install script reviewed in allowScripts, so npm ci warns of none', () => {
    const reviewed = Object.keys(manifest.allowScripts ?? {}).map((key) =>
      // Keys are `name` or a pinned `name@range`; a scoped name starts with its own `@`.
      key.lastIndexOf('@') > 0 ? key.slice(0, key.lastIndexOf('@')) : key,
    );
    const unreviewed = installed
      .filter((pkg) => pkg.hasInstallScript && !reviewed.includes(pkg.name))
      .map((pkg) => `${pkg.name}@${pkg.version}`);
    expect(unreviewed).toEqual([]);
  });

  it(`installs no package whose engines exclude the Node running the tests (${process.versions.node})`, () => {
    // npm prints five EBADENGINE lines for each of these; CI runs the tests on Node 20 and 24.
    const refused = installed.flatMap((pkg) => {
      const range = Array.isArray(pkg.engines) ? undefined : pkg.engines?.node;
      return range === undefined || semver.satisfies(process.versions.node, range)
        ? []
        : [`${pkg.location}@${pkg.version} wants node ${range}`];
    });
    expect(refused).toEqual([]);
  });
});
