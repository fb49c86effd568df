import type { Plugin } from 'graphql-yoga';
import { ServiceError } from '../../errors.ts';

// One non-negative integer; anything else (signs, spaces, comma-joined duplicates as in request smuggling) is
// refused rather than allowed to skip the check.
export const CONTENT_LENGTH = /^\d+$/;

function tooLarge(maxBytes: number): ServiceError {
  return new ServiceError(
    'REQUEST_ENTITY_TOO_LARGE',
    `The request body is larger than this service accepts (${maxBytes} bytes).`,
    { http: { status: 413 } },
  );
}

/**
 * Limits request bodies to `maxBytes` without taxing the common case. Yoga's own `maxRequestBodySize` pipes
 * every body through a TransformStream, which on this service halved throughput. Here a body that declares its
 * Content-Length is judged by that header alone, before anything is read, because Node's HTTP parser never
 * delivers more bytes than the header declared. Only a body without one (chunked) is counted as it streams.
 * Pass Yoga `maxRequestBodySize: false` alongside, or both checks run.
 */
export function useRequestBodyLimit(maxBytes: number): Plugin {
  return {
    onRequestParse({ request, requestParser, setRequestParser, fetchAPI }) {
      const declared = request.headers.get('content-length');
      if (declared !== null) {
        if (!CONTENT_LENGTH.test(declared)) {
          throw new ServiceError('BAD_REQUEST', 'The Content-Length header is invalid.', {
            http: { status: 400 },
          });
        }
        if (Number(declared) > maxBytes) throw tooLarge(maxBytes);
        return;
      }
      if (!requestParser || !request.body) return;
      setRequestParser((original) => {
        const body = original.body;
        if (!body) return requestParser(original);
        // A native stream needs the native TransformStream, a ponyfilled one the ponyfill (as in Yoga's own check).
        const Transform =
          body instanceof ReadableStream ? globalThis.TransformStream : fetchAPI.TransformStream;
        let seen = 0;
        const capped = body.pipeThrough(
          new Transform<Uint8Array, Uint8Array>({
            transform(chunk, controller) {
              seen += chunk.byteLength;
              if (seen > maxBytes) controller.error(tooLarge(maxBytes));
              else controller.enqueue(chunk);
            },
          }),
        );
        return requestParser(
          new fetchAPI.Request(original.url, {
            method: original.method,
            headers: original.headers,
            signal: original.signal,
            body: capped,
            duplex: 'half',
          } as RequestInit),
        );
      });
    },
  };
}
