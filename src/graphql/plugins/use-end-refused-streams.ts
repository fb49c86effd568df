import { isAsyncIterable, type Plugin } from 'graphql-yoga';

/**
 * Ends a subscription no writer will stream. A subscription asked for as JSON is subscribed before Yoga finds no
 * processor for it and answers 406, and nothing reads or closes its stream: here it is closed, so a live
 * feed subscription does not outlive the refusal (holding a slot of LIVE_MAX_SUBSCRIPTIONS, and its poller).
 * Placed after Yoga's result processors, which choose the writer first.
 */
export function useEndRefusedStreams(): Plugin {
  return {
    onResultProcess({ result, resultProcessor }) {
      if (resultProcessor || !isAsyncIterable(result)) return;
      void result[Symbol.asyncIterator]().return?.();
    },
  };
}
