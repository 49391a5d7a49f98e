/**
 * `carousel` and `subscribe`: deals a carousel and sends it; a subscribe then keeps it subscribed. A subscribe
 * reserves its place before the deal's await (`pendingSubscribes`), so pipelined subscribes cannot pass the
 * per-connection limit; the reservation is released whatever the deal does. A subscribe whose reservation was
 * taken away during the deal (an unsubscribe, a hello as another user, a newer subscribe of the same id) only
 * sends its carousel.
 */
import type { CarouselRequestMessage, SubscribeMessage } from '../../domain/protocol-messages.ts';
import { CroupierError } from '../../errors/index.ts';
import { MAX_SUBSCRIPTIONS, type SocketData, sendCorked, sendMessage } from '../connection.ts';
import { mergeContext } from '../protocol.ts';
import { errorReply, type HandlerDeps, type Socket } from './handler-deps.ts';

export async function handleCarousel(
  deps: HandlerDeps,
  ws: Socket,
  data: SocketData,
  msg: CarouselRequestMessage | SubscribeMessage,
  startedNs: bigint,
): Promise<void> {
  const { dealer, hub, metrics, logger } = deps;
  const userId = data.userId;
  if (userId === null) return;
  const ticket = {};
  const reserving = msg.type === 'subscribe';
  if (reserving) {
    const isNew = !data.subscriptions.has(msg.requestId) && !data.pendingSubscribes.has(msg.requestId);
    if (isNew && held(data) >= MAX_SUBSCRIPTIONS) {
      sendMessage(
        ws,
        data,
        errorReply(
          'CROUPIER_ERR_GATEWAY_BAD_MESSAGE',
          `at most ${MAX_SUBSCRIPTIONS} subscriptions per connection: unsubscribe one first`,
          msg.requestId,
        ),
      );
      return;
    }
    data.pendingSubscribes.set(msg.requestId, ticket);
  }
  const context = mergeContext(data.context, msg.context);
  const filters = msg.filters?.category !== undefined ? { category: msg.filters.category } : undefined;
  try {
    const dealt = await dealer.deal(
      data,
      { requestId: msg.requestId, userId, slots: msg.slots, context, ...(filters ? { filters } : {}) },
      startedNs,
    );
    const { decision } = dealt;
    dealer.delivered(dealt, data.open ? sendCorked(ws, data, dealt.message) : 'closed');
    if (!data.open) return;
    if (msg.type === 'subscribe' && data.pendingSubscribes.get(msg.requestId) === ticket) {
      hub.subscribe(
        ws,
        data,
        { requestId: msg.requestId, slots: msg.slots, context, filters },
        decision.items.map((item) => item.itemId),
        decision.segment,
      );
    }
  } catch (error) {
    metrics.decisionErrors++;
    if (!(error instanceof CroupierError))
      logger.error({ err: error, requestId: msg.requestId }, 'decision failed');
    const message =
      error instanceof CroupierError ? error.message : 'the carousel could not be decided; try again';
    if (data.open)
      sendCorked(ws, data, errorReply('CROUPIER_ERR_GATEWAY_DECISION_FAILED', message, msg.requestId));
  } finally {
    if (reserving && data.pendingSubscribes.get(msg.requestId) === ticket)
      data.pendingSubscribes.delete(msg.requestId);
  }
}

/** Subscriptions a connection holds or is being dealt, each request id once. */
function held(data: SocketData): number {
  let n = data.subscriptions.size;
  for (const requestId of data.pendingSubscribes.keys()) if (!data.subscriptions.has(requestId)) n++;
  return n;
}
