/** What the gateway's message handlers share: their dependencies and the shape of an error reply. */
import type { WebSocket } from 'uWebSockets.js';
import type { Config } from '../../config/index.ts';
import type { ErrorMessage } from '../../domain/protocol-messages.ts';
import type { ShownCheck } from '../../domain/state-deltas.ts';
import type { LogLimiter } from '../../log/log-limiter.ts';
import type { Logger } from '../../log/logger.ts';
import type { ClosedCarousels } from '../closed-carousels.ts';
import type { SocketData } from '../connection.ts';
import type { Dealer } from '../dealer.ts';
import type { EventLog } from '../event-log.ts';
import type { FeedbackClaims } from '../feedback-claims.ts';
import type { GatewayMetrics } from '../metrics.ts';
import type { SubscriptionHub } from '../subscriptions.ts';

export interface HandlerDeps {
  config: Config['gateway'];
  dealer: Dealer;
  eventLog: EventLog;
  hub: SubscriptionHub;
  metrics: GatewayMetrics;
  logger: Logger;
  /** For warnings that can come once per message (feedback whose check or claim failed): a line per 10 s. */
  warnings: LogLimiter;
  /** Loads a user's activity into the cache (fire and forget). */
  loadUser?: (userId: string) => Promise<void>;
  /**
   * Whether the logged impressions of `requestId` show `itemId` to `userId` (the request's record that the
   * topology keeps for the attribution window): how feedback is checked after a reconnect.
   */
  wasShown?: (userId: string, requestId: string, itemId: string) => Promise<ShownCheck>;
  /**
   * Claims of feedback in Redis (kept for the attribution window), so that a click, a conversion and a watch each
   * count once per item shown, on any connection of any gateway replica; a claim Redis refuses is kept and written
   * once it takes writes again.
   */
  claims?: FeedbackClaims;
  /** The carousels of this gateway's closed connections, kept a short while (closed-carousels.ts). */
  closedCarousels?: ClosedCarousels;
}

export type Socket = WebSocket<SocketData>;

export function errorReply(code: string, message: string, requestId: string | null): ErrorMessage {
  return { type: 'error', code, message, requestId };
}
