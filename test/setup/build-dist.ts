// vitest globalSetup: the test files that start the server as `npm start` does run the compiled dist/, so it is
// built once here, before any of them (and only when src/ changed since), never by several files at once.
// @ts-expect-error scripts/build.mjs is plain JavaScript (it runs before anything is compiled) and has no types.
import { ensureBuilt } from '../../scripts/build.mjs';

export default async function setup(): Promise<void> {
  await (ensureBuilt as () => Promise<void>)();
}
