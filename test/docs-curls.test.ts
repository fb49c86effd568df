import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { composeSupergraph } from '../examples/federation/compose.ts';
import { createGateway } from '../examples/federation/gateway.ts';
import { createPartnersSubgraph } from '../examples/federation/partners-subgraph.ts';
import { listen } from './helpers/listen.ts';
import { type ServerProcess, startServerProcess } from './helpers/server-process.ts';

/** A curl command from a ```sh block of the documentation, and the answer the lines after it say it gives. */
interface DocumentedCurl {
  where: string;
  command: string;
  /** The `# ...` lines right after the command; `...` in them stands for any text. */
  expected?: string;
}

/** Every curl of README.md and docs/*.md, wherever in them it is: a documentation change cannot skip this test. */
function documentedCurls(): DocumentedCurl[] {
  const files = [
    'README.md',
    ...readdirSync('docs')
      .filter((name) => name.endsWith('.md'))
      .map((name) => `docs/${name}`),
  ];
  const curls: DocumentedCurl[] = [];
  for (const file of files) {
    const lines = readFileSync(file, 'utf8').split('\n');
    let inShell = false;
    for (let i = 0; i < lines.length; i++) {
      const line = (lines[i] as string).trim();
      if (line.startsWith('```')) {
        inShell = !inShell && /^```(sh|bash|shell)\s*$/.test(line);
        continue;
      }
      if (!inShell || !line.startsWith('curl ')) continue;
      const where = `${file}:${i + 1}`;
      let command = line;
      while (command.endsWith('\\') && i + 1 < lines.length)
        command = `${command.slice(0, -1)} ${(lines[++i] as string).trim()}`;
      const expected: string[] = [];
      while ((lines[i + 1] ?? '').trim().startsWith('# '))
        expected.push((lines[++i] as string).trim().slice(2));
      curls.push({ where, command, ...(expected.length ? { expected: expected.join('\n') } : {}) });
    }
  }
  return curls;
}

const curls = documentedCurls();

describe('every curl in the documentation, run against npm start on the simulator', () => {
  let server: ServerProcess;
  let partners: Server;
  let gateway: ReturnType<typeof createGateway>;
  let gatewayServer: Server;
  /** The documented addresses, and where the test serves each. */
  const origins = new Map<string, string>();

  beforeAll(async () => {
    // As docs/simulator.md starts it: its fault example needs every query to reach the simulator. With the
    // example manifest, as docs/frontend.md starts it for its persisted-document curls.
    server = await startServerProcess({
      SIMULATOR_CONTROL: 'true',
      SIMULATOR_PORT: '0',
      CACHE_TTL_MS: '0',
      CARRIERX_RETRY_BUDGET_RATIO: '2',
      PERSISTED_DOCUMENTS: 'examples/operations/gql/persisted-documents.json',
    });
    const simulator = /simulator at (http:\/\/[^/\s]+)\//.exec(server.output)?.[1];
    if (!simulator) throw new Error(`no simulator URL in the banner:\n${server.output}`);
    const partnersListening = await listen(createPartnersSubgraph());
    partners = partnersListening.server;
    gateway = createGateway(
      composeSupergraph({ cdr: server.url, partners: `${partnersListening.origin}/graphql` }),
    );
    const gatewayListening = await listen(gateway);
    gatewayServer = gatewayListening.server;
    origins.set('http://localhost:4000', new URL(server.url).origin);
    origins.set('http://127.0.0.1:4010', simulator);
    origins.set('http://localhost:4002', gatewayListening.origin);
  }, 60_000);

  afterAll(async () => {
    for (const listening of [partners, gatewayServer]) {
      listening?.closeAllConnections();
      listening?.close();
    }
    await gateway?.dispose();
    await server?.stop();
  });

  it('finds the curls of the README and of docs/', () => {
    expect(curls.some((curl) => curl.where.startsWith('README.md'))).toBe(true);
    expect(curls.some((curl) => curl.where.startsWith('docs/'))).toBe(true);
  });

  it.each(curls.map((curl) => [curl.where, curl] as const))('%s answers as documented', async (_, curl) => {
    let command = curl.command;
    for (const [documented, served] of origins) command = command.replaceAll(documented, served);
    // A documented address this test does not serve would otherwise fail as a connection error, or pass unseen.
    expect(
      command.match(/https?:\/\/(localhost|127\.0\.0\.1):(4000|4001|4002|4010)\b/),
      curl.command,
    ).toBeNull();
    const { stdout } = await promisify(execFile)('sh', ['-c', `${command} -w '\\n%{http_code}'`]);
    const newline = stdout.lastIndexOf('\n');
    const body = stdout.slice(0, newline);
    const status = Number(stdout.slice(newline + 1));
    expect(status, `${curl.command}\n${body}`).toBeGreaterThanOrEqual(200);
    expect(status, `${curl.command}\n${body}`).toBeLessThan(300);
    if (curl.expected === undefined) {
      // No documented answer: then it must not be an error.
      if (body.startsWith('{')) expect(JSON.parse(body), curl.command).not.toHaveProperty('errors');
    } else if (curl.expected.includes('...')) {
      const pattern = curl.expected
        .split('...')
        .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
        .join('[\\s\\S]*');
      expect(body).toMatch(new RegExp(`^${pattern}$`));
    } else {
      expect(JSON.parse(body)).toEqual(JSON.parse(curl.expected));
    }
  });
});
