/** `unsubscribe`: ends one subscription of the connection, or all of them, and says so. */
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
  sendMessage(ws, data, { type: 'unsubscribed', requestId: msg.requestId ?? null });
}
