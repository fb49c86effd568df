import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { variables } from '../src/config/index.ts';
import type { VariableMeta } from '../src/config/shared.ts';

const doc = readFileSync(new URL('../docs/configuration.md', import.meta.url), 'utf8');

/** The rows of the variables table: the first cell as written, and the default cell without its backticks. */
const rows = [...doc.matchAll(/^\| (`[^|]*) \| ([^|]*) \|/gm)].map(([, name = '', cell = '']) => ({
  name,
  default: cell.replaceAll('`', '').trim(),
}));

/** What the doc must give as a variable's default: its schema's default, or what its schema says unset means. */
function declaredDefault(name: string): string {
  const schema = variables[name];
  if (!schema) throw new Error(`${name} is not declared`);
  const parsed = schema.safeParse(undefined);
  if (parsed.success && parsed.data !== undefined) return String(parsed.data);
  return (schema.meta() as VariableMeta | undefined)?.unset ?? 'unset';
}

describe('docs/configuration.md', () => {
  it('lists every variable the configuration declares, once, with its default', () => {
    const declared = Object.keys(variables);
    expect(declared.length).toBeGreaterThan(50);
    for (const name of declared) {
      const documented = rows.filter((row) => row.name === `\`${name}\``);
      expect(documented, `${name}: rows in docs/configuration.md`).toHaveLength(1);
      expect(documented[0]?.default, `${name}: its default in docs/configuration.md`).toBe(
        declaredDefault(name),
      );
    }
  });

  it('lists no variable the configuration does not declare, one variable a row', () => {
    const unknown = rows.map((row) => row.name).filter((name) => !(name.replaceAll('`', '') in variables));
    expect(unknown).toEqual([]);
  });

  it('has a one-line description of every variable in its schema', () => {
    for (const [name, schema] of Object.entries(variables)) {
      const description = (schema.meta() as VariableMeta | undefined)?.description ?? '';
      expect(description, name).toMatch(/^[^\n]{5,120}$/);
    }
  });
});
