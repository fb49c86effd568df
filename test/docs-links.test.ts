import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { describe, expect, it } from 'vitest';

/** README.md and every docs/*.md: the documentation a reader follows links through. */
const files = [
  'README.md',
  ...readdirSync('docs')
    .filter((name) => name.endsWith('.md'))
    .map((name) => `docs/${name}`),
];

/** The lines of a Markdown file outside fenced code blocks, where links and headings are rendered. */
function proseLines(file: string): { text: string; line: number }[] {
  const lines: { text: string; line: number }[] = [];
  let fence: string | undefined;
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, index) => {
      const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
      if (marker && (fence === undefined || marker.startsWith(fence))) {
        fence = fence === undefined ? marker : undefined;
      } else if (fence === undefined) {
        lines.push({ text, line: index + 1 });
      }
    });
  return lines;
}

/** The anchors GitHub gives a file's headings: lower case, punctuation dropped, spaces as hyphens, -1 for repeats. */
function anchorsOf(file: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  for (const { text } of proseLines(file)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(text)?.[1];
    if (heading === undefined) continue;
    const slug = heading
      .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1')
      .toLowerCase()
      .replace(/[^\p{L}\p{N}\s_-]/gu, '')
      .replace(/\s/g, '-');
    const count = seen.get(slug) ?? 0;
    seen.set(slug, count + 1);
    anchors.add(count === 0 ? slug : `${slug}-${count}`);
  }
  return anchors;
}

/** Every inline link of a file whose target is in this repository (no scheme), with its line number. */
function relativeLinks(file: string): { line: number; target: string }[] {
  const links: { line: number; target: string }[] = [];
  for (const { text, line } of proseLines(file)) {
    // Code spans are not rendered as links, but a link's text may be one: [`schema.graphql`](schema/schema.graphql).
    const prose = text.replace(/`[^`]*`/g, 'code');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
      const target = match[1] as string;
      if (!/^[a-z][a-z0-9+.-]*:/i.test(target)) links.push({ line, target });
    }
  }
  return links;
}

/** Why a link does not lead anywhere, or undefined when it does. */
function brokenBecause(file: string, target: string): string | undefined {
  const hash = target.indexOf('#');
  const path = hash < 0 ? target : target.slice(0, hash);
  const anchor = hash < 0 ? undefined : decodeURIComponent(target.slice(hash + 1));
  const resolved = path === '' ? file : normalize(join(dirname(file), decodeURIComponent(path)));
  if (!existsSync(resolved)) return `${resolved} does not exist`;
  if (anchor === undefined) return undefined;
  if (statSync(resolved).isDirectory() || !resolved.endsWith('.md'))
    return `#${anchor} points into ${resolved}, which has no headings`;
  return anchorsOf(resolved).has(anchor) ? undefined : `${resolved} has no heading #${anchor}`;
}

describe('links in the documentation', () => {
  it('finds relative links in the README and in docs/, some of them to headings', () => {
    const all = files.flatMap((file) => relativeLinks(file).map((link) => ({ file, ...link })));
    expect(all.some((link) => link.file === 'README.md')).toBe(true);
    expect(all.some((link) => link.file.startsWith('docs/'))).toBe(true);
    expect(all.some((link) => link.target.includes('#'))).toBe(true);
  });

  it.each(files)('every relative link in %s leads to a file that exists and to a heading it has', (file) => {
    const broken = relativeLinks(file).flatMap(({ line, target }) => {
      const reason = brokenBecause(file, target);
      return reason === undefined ? [] : [`${file}:${line} (${target}): ${reason}`];
    });
    expect(broken).toEqual([]);
  });
});
