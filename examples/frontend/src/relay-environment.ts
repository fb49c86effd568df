import { Environment, type FetchFunction, Network, RecordSource, Store } from 'relay-runtime';

/** Where the Relay environment sends operations, and the CarrierX token it sends them with. */
export interface RelayEnvironmentOptions {
  /** This service's (or the gateway's) /graphql URL. */
  url: string;
  /** The caller's CarrierX token, read per request so that a refreshed token is used from then on. */
  token: () => string;
  /** Defaults to the global fetch; tests pass the app's own. */
  fetch?: typeof fetch;
}

/**
 * A Relay environment for this API. Relay needs nothing else from it: records are keyed by `id` (Relay's
 * default `getDataID`), the global id every CallDetailRecord has, and `node(id:)` is the root field Relay's
 * @refetchable fragments refetch through. Point relay-compiler's `schema` at schema/schema.graphql.
 */
export function createRelayEnvironment(options: RelayEnvironmentOptions): Environment {
  const post = options.fetch ?? fetch;
  const fetchFunction: FetchFunction = async (request, variables) => {
    const response = await post(options.url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json',
        authorization: `Bearer ${options.token()}`,
      },
      body: JSON.stringify({ query: request.text, operationName: request.name, variables }),
    });
    // A record that fails is null with its error beside the rest of `data`: Relay keeps the data it got.
    return response.json();
  };
  return new Environment({ network: Network.create(fetchFunction), store: new Store(new RecordSource()) });
}
