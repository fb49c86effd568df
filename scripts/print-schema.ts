import { readFileSync, writeFileSync } from 'node:fs';
import { printedSchemas } from '../src/graphql/schema/print.ts';

// Writes the committed SDL files under schema/; with --check, fails when they are stale instead.
const check = process.argv.includes('--check');
let stale = false;
for (const { file, sdl } of printedSchemas()) {
  const path = new URL(`../${file}`, import.meta.url);
  let current = '';
  try {
    current = readFileSync(path, 'utf8');
  } catch {}
  if (current === sdl) continue;
  if (check) {
    stale = true;
    process.stderr.write(`${file} is stale: run \`npm run schema:print\` and commit the result.\n`);
  } else {
    writeFileSync(path, sdl);
    process.stdout.write(`wrote ${file}\n`);
  }
}
if (stale) process.exit(1);
