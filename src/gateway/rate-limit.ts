/**
 * What the gateway does with a message over its connection's rate (`gateway.maxMessagesPerSecond`): the first one
 * in a second is answered with CROUPIER_ERR_GATEWAY_RATE_LIMITED, the rest of that second are dropped without an
 * answer, and a connection that sends more than `FLOOD_FACTOR` times its rate past the limit within a second is
 * closed (1008). A flood then costs the gateway a counter per frame instead of an answer per frame, so it cannot
 * hold the event loop that every other connection is served from.
 */
import type { SocketData } from './connection.ts';

/** Messages over the limit within a second, as a multiple of the rate, that close the connection. */
export const FLOOD_FACTOR = 10;

/** `answer`: send the rate-limit error; `drop`: say nothing; `close`: close the flooding connection. */
export type OverLimitVerdict = 'answer' | 'drop' | 'close';

/** Decides what to do with a message that found no token (call only then). */
export function overLimit(data: SocketData, perSecond: number, now = Date.now()): OverLimitVerdict {
  if (now - data.limitedSince >= 1000) {
    data.limitedSince = now;
    data.droppedSince = 1;
    return 'answer';
  }
  data.droppedSince++;
  // Exactly once, when the count crosses the bound; what the socket still delivers until it is closed is dropped.
  return data.droppedSince === Math.floor(FLOOD_FACTOR * perSecond) + 1 ? 'close' : 'drop';
}
