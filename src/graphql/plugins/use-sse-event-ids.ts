import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import { currentEventIdOf } from '../schema/call-detail-record-added.ts';

// Yoga's SSE writer (getSSEProcessor) writes `event: next` and `data:` for each result, never `id:`, and takes
// no option for it. Rather than copy the writer, this plugin labels each subscription result with its feed
// event id as it is produced, and puts an `id:` line in front of the writer's `event: next` for it: the
// writer's frames are otherwise left byte for byte as Yoga writes them.

const SSE = 'text/event-stream';
const NEXT = 'event: next\n';
const FRAME_START = /(?:^|\n)event: next\n/g;

/** Subscription results and the feed event each stands for (set as a result leaves execution). */
const resultIds = new WeakMap<object, string>();

/** Labels each SSE event of a live subscription with the feed's event id (`id:`), for `Last-Event-ID` resume. */
export function useSseEventIds(): Plugin {
  return {
    onSubscribe({ args }) {
      return {
        onSubscribeResult() {
          return {
            onNext({ result }) {
              const id = currentEventIdOf(args.contextValue as object);
              if (id !== undefined) resultIds.set(result, id);
            },
          };
        },
      };
    },
    onResultProcess({ result, resultProcessor, setResultProcessor }) {
      if (!resultProcessor || !isAsyncIterable(result)) return;
      const write = resultProcessor;
      // Yoga's processors of streamed results (SSE, multipart) ignore the media type they are handed; which
      // one wrote is read from the response.
      setResultProcessor(async (streamed, fetchAPI, acceptedMediaType) => {
        if (!isAsyncIterable(streamed)) return write(streamed, fetchAPI, acceptedMediaType);
        // One entry per result the writer will write as an event, in order: its id, or null for none.
        const ids: (string | null)[] = [];
        const labelled = {
          [Symbol.asyncIterator]() {
            const iterator = streamed[Symbol.asyncIterator]();
            return {
              async next() {
                const step = await iterator.next();
                if (step.value != null) ids.push(resultIds.get(step.value) ?? null);
                return step;
              },
              return: (value?: unknown) => iterator.return?.(value) ?? Promise.resolve({ done: true, value }),
            };
          },
        };
        const response = await write(labelled as typeof streamed, fetchAPI, acceptedMediaType);
        if (!response.body || !response.headers.get('content-type')?.startsWith(SSE)) return response;
        const decoder = new fetchAPI.TextDecoder();
        const encoder = new fetchAPI.TextEncoder();
        const withIds = new fetchAPI.TransformStream<Uint8Array, Uint8Array>({
          transform(chunk, controller) {
            // The writer writes `event: next\n` whole, at the start of a frame (its data is one line of JSON, so
            // the text cannot occur inside one); a transport may join its writes into one chunk.
            const text = decoder.decode(chunk, { stream: true });
            if (!text.includes(NEXT)) return controller.enqueue(chunk);
            const labelled = text.replace(FRAME_START, (start) => {
              const id = ids.shift();
              return id ? `${start.slice(0, start.length - NEXT.length)}id: ${id}\n${NEXT}` : start;
            });
            controller.enqueue(encoder.encode(labelled));
          },
        });
        return new fetchAPI.Response(response.body.pipeThrough(withIds), {
          status: response.status,
          statusText: response.statusText,
          headers: response.headers,
        });
      }, SSE);
    },
  };
}
