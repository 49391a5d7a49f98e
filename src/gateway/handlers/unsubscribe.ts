/** `unsubscribe`: ends one subscription of the connection, or all of them (pending ones included), and says so. */
import type { UnsubscribeMessage } from '../../domain/protocol-messages.ts';
import { type SocketData, sendMessage } from '../connection.ts';
import type { HandlerDeps, Socket } from './handler-deps.ts';

export function handleUnsubscribe(
  deps: HandlerDeps,
  ws: Socket,
  data: SocketData,
  msg: UnsubscribeMessage,
): void {
  deps.hub.unsubscribe(data, msg.requestId);
  // A subscribe still being dealt ends too: it sends its carousel but does not subscribe.
  if (msg.requestId === undefined) data.pendingSubscribes.clear();
  else data.pendingSubscribes.delete(msg.requestId);
  sendMessage(ws, data, { type: 'unsubscribed', requestId: msg.requestId ?? null });
}
