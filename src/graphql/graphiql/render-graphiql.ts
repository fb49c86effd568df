import type { GraphiQLOptions } from 'graphql-yoga';
import { graphiqlAssetUrls, type OfflineGraphiQLOptions } from './use-offline-graphiql.ts';

// A local icon, so the browser does not fetch Yoga's default favicon from GitHub.
const DEFAULT_FAVICON = `data:image/svg+xml;base64,${Buffer.from(
  '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 32 32"><circle cx="16" cy="16" r="15" fill="#ed2e7e"/></svg>',
).toString('base64')}`;

const HTML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}

/**
 * JSON for an inline <script>: `<` is escaped so a value holding `</script>` or `<!--` cannot end the
 * script, and U+2028/U+2029 for older parsers.
 */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/&/g, '\\u0026')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

/**
 * The Explorer (@graphiql/plugin-explorer, which Yoga's bundle always adds and takes no options from this page)
 * lists an operation's root fields sorted by name, so Apollo Federation's `_entities` and `_service`, there for
 * the gateway, led the list a newcomer ticks fields from. They stay in the schema, the docs and the Explorer,
 * moved to the end of each operation's list and dimmed. Each field is a `.graphiql-explorer-<name>` node; an
 * operation's list is the element holding its `.graphiql-operation-title-bar`.
 */
const EXPLORER_STYLE = `
.graphiql-explorer-root div:has(> .graphiql-operation-title-bar) { display: flex; flex-direction: column; }
.graphiql-explorer-root div:has(> .graphiql-operation-title-bar) > :is(.graphiql-explorer-_entities, .graphiql-explorer-_service) {
  order: 1;
  opacity: 0.6;
}
`;

/**
 * Builds a `renderGraphiQL` for Yoga that loads GraphiQL from the assets `useOfflineGraphiQL` serves;
 * pass both the same `basePath`.
 */
export function createGraphiQLRenderer(
  options: OfflineGraphiQLOptions = {},
): (opts?: GraphiQLOptions) => string {
  // Found on the first render, not here: renderGraphiQL is built at import, when a server with GraphiQL off
  // (whose install has no assets) must not look for them.
  let urls: ReturnType<typeof graphiqlAssetUrls> | undefined;

  // Mirrors the page graphql-yoga renders by default, with local URLs instead of unpkg. The workers are
  // same-origin now, so Monaco gets their URLs directly instead of fetched-and-wrapped blobs.
  return (opts = {}) => {
    urls ??= graphiqlAssetUrls(options);
    // @graphql-yoga/graphiql 4.5.0 always sets GraphiQL's initialQuery (to `?query=`, else its `query` prop,
    // else a welcome comment), so `defaultQuery` is never shown. Handing it over as `query` makes it show.
    const props =
      opts.defaultQuery != null && !('query' in opts) ? { ...opts, query: opts.defaultQuery } : opts;
    const title = escapeHtml(opts.title || 'Yoga GraphiQL');
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${title}</title>
<link rel="icon" href="${escapeHtml(opts.favicon || DEFAULT_FAVICON)}">
<link rel="stylesheet" href="${escapeHtml(urls.stylesheet)}">
<style>${EXPLORER_STYLE}</style>
</head>
<body id="body" class="no-focus-outline">
<noscript>You need to enable JavaScript to run this app.</noscript>
<div id="root">Loading ${title}...</div>
<script>
const workers = ${scriptJson(urls.workers)};
self.MonacoEnvironment = {
  globalAPI: false,
  getWorkerUrl: (_moduleId, label) => workers[label] ?? workers.editorWorkerService,
};
</script>
<script src="${escapeHtml(urls.script)}"></script>
<script>
YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), ${scriptJson(props)});
</script>
</body>
</html>
`;
  };
}

/** Yoga's `renderGraphiQL` option for assets served by `useOfflineGraphiQL()` at the default path. */
export const renderGraphiQL: (opts?: GraphiQLOptions) => string = createGraphiQLRenderer();
