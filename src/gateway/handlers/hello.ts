/**
 * `hello`: checks the client token (unless auth is off), then binds the connection to the user. Saying hello as
 * another user ends what the connection held for the previous one (subscriptions, reservations, shown carousels).
 */
import type { HelloMessage } from '../../domain/protocol-messages.ts';
import { CroupierError } from '../../errors/index.ts';
import { verifyClientToken } from '../auth.ts';
import { type SocketData, sendMessage } from '../connection.ts';
import { EMPTY_CONTEXT, mergeContext } from '../protocol.ts';
import { errorReply, type HandlerDeps, type Socket } from './handler-deps.ts';

export function handleHello(deps: HandlerDeps, ws: Socket, data: SocketData, msg: HelloMessage): void {
  const { config, hub, metrics, logger } = deps;
  if (!config.authDisabled) {
    if (msg.token === undefined) {
      metrics.authFailures++;
      sendMessage(ws, data, errorReply('CROUPIER_ERR_GATEWAY_AUTH', 'hello needs a token: auth is on', null));
      return;
    }
    try {
      const { userId } = verifyClientToken(config.authSecret ?? '', msg.token);
      if (userId !== msg.userId) {
        throw new CroupierError(
          'CROUPIER_ERR_GATEWAY_AUTH',
          `the token is for another user than "${msg.userId}"`,
        );
      }
    } catch (error) {
      metrics.authFailures++;
      const message = error instanceof CroupierError ? error.message : 'the token is invalid';
      sendMessage(ws, data, errorReply('CROUPIER_ERR_GATEWAY_AUTH', message, null));
      return;
    }
  }
  if (data.userId !== null && data.userId !== msg.userId) {
    hub.cancelAll(data);
    data.pendingSubscribes.clear();
    data.recent.clear();
  }
  data.userId = msg.userId;
  data.context = mergeContext(EMPTY_CONTEXT, msg.context);
  data.propensities = msg.propensities === true;
  data.candidates = msg.candidates === true;
  deps.loadUser?.(msg.userId).catch((error: unknown) => {
    logger.warn({ err: error, userId: msg.userId }, 'loading the user into the cache failed');
  });
  sendMessage(ws, data, { type: 'welcome', sessionId: data.sessionId, userId: msg.userId });
}
