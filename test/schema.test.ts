import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { printedSchemas } from '../src/schema/print.ts';

describe('committed schema', () => {
  it.each(printedSchemas().map((s) => [s.file, s.sdl]))(
    '%s matches the code (run `npm run schema:print` after changing the schema)',
    (file, sdl) => {
      const committed = readFileSync(new URL(`../${file}`, import.meta.url), 'utf8');
      expect(committed).toBe(sdl);
    },
  );
});
