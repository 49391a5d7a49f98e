/**
 * Subscribed carousels. The hub indexes subscriptions by the items they show; after each change-feed round
 * it re-deals a subscription whose items' posterior means moved by at least `minShift` (at most one push per
 * `minIntervalMs`), and at once when one of its items left the pool. A congested socket gets its push when
 * it drains.
 */
import type { WebSocket } from 'uWebSockets.js';
import type { RequestContext, StateView } from '../domain/decision.ts';
import type { Logger } from '../log/logger.ts';
import type { StateChange } from '../state/live-reader/index.ts';
import { type SocketData, type Subscription, sendCorked } from './connection.ts';
import type { Dealer } from './dealer.ts';
import type { GatewayMetrics } from './metrics.ts';

export interface SubscriptionHubOptions {
  view: StateView;
  dealer: Dealer;
  metrics: GatewayMetrics;
  logger: Logger;
  minIntervalMs: number;
  minShift: number;
}

/** Posterior mean of an arm under a uniform prior: what "moved enough" is measured on. */
export function posteriorMean(view: StateView, itemId: string, segment: string): number {
  const arm = view.arm(itemId, segment);
  return (arm.clicks + 1) / (arm.impressions + 2);
}

export class SubscriptionHub {
  private readonly byItem = new Map<string, Set<Subscription>>();
  private readonly active = new Set<Subscription>();

  constructor(private readonly options: SubscriptionHubOptions) {}

  /** Subscriptions tracked now (each counted once, however many items it shows). */
  get size(): number {
    return this.active.size;
  }

  /**
   * Subscribes a connection to the carousel it was just dealt (`shown`, in `segment`): one subscription per
   * request id, a repeated subscribe replaces the previous one.
   */
  subscribe(
    socket: WebSocket<SocketData>,
    data: SocketData,
    request: {
      requestId: string;
      slots: number;
      context: RequestContext;
      filters: { category?: string } | undefined;
    },
    shown: readonly string[],
    segment: string,
  ): void {
    const previous = data.subscriptions.get(request.requestId);
    if (previous !== undefined) this.cancel(previous);
    const sub: Subscription = {
      requestId: request.requestId,
      socket,
      data,
      slots: request.slots,
      context: request.context,
      filters: request.filters,
      shown: new Map(),
      segment,
      lastPushAt: Date.now(),
      seq: 0,
      timer: null,
      deferred: false,
      active: true,
    };
    data.subscriptions.set(request.requestId, sub);
    this.track(sub, shown, segment);
  }

  /** Ends the connection's subscription `requestId`, or all of them when it is undefined. */
  unsubscribe(data: SocketData, requestId: string | undefined): void {
    for (const [id, sub] of data.subscriptions) {
      if (requestId !== undefined && requestId !== id) continue;
      this.cancel(sub);
      data.subscriptions.delete(id);
    }
  }

  /** Ends every subscription of a connection (it closed, or said hello as another user). */
  cancelAll(data: SocketData): void {
    for (const sub of data.subscriptions.values()) this.cancel(sub);
    data.subscriptions.clear();
  }

  /** Indexes a subscription by what it shows now. */
  track(sub: Subscription, shown: readonly string[], segment: string): void {
    this.untrack(sub);
    this.active.add(sub);
    sub.segment = segment;
    sub.shown = new Map(shown.map((itemId) => [itemId, posteriorMean(this.options.view, itemId, segment)]));
    for (const itemId of shown) {
      let set = this.byItem.get(itemId);
      if (set === undefined) {
        set = new Set();
        this.byItem.set(itemId, set);
      }
      set.add(sub);
    }
  }

  /** Stops a subscription (unsubscribe, user switch, close). */
  cancel(sub: Subscription): void {
    sub.active = false;
    if (sub.timer !== null) clearTimeout(sub.timer);
    sub.timer = null;
    this.untrack(sub);
    this.active.delete(sub);
  }

  /** Called with every change the cache applied. */
  onChange(change: StateChange): void {
    for (const itemId of change.removed) {
      const subs = this.byItem.get(itemId);
      if (subs !== undefined) for (const sub of subs) this.schedule(sub, true);
    }
    const { view, minShift } = this.options;
    for (const itemId of change.items) {
      const subs = this.byItem.get(itemId);
      if (subs === undefined) continue;
      for (const sub of subs) {
        if (sub.timer !== null) continue;
        const before = sub.shown.get(itemId);
        if (before === undefined) continue;
        if (Math.abs(posteriorMean(view, itemId, sub.segment) - before) >= minShift)
          this.schedule(sub, false);
      }
    }
  }

  /** The socket drained: send the pushes it missed while congested. */
  resume(subs: Iterable<Subscription>): void {
    for (const sub of subs) {
      if (sub.deferred && sub.active) {
        sub.deferred = false;
        this.schedule(sub, false);
      }
    }
  }

  private untrack(sub: Subscription): void {
    for (const itemId of sub.shown.keys()) {
      const set = this.byItem.get(itemId);
      if (set === undefined) continue;
      set.delete(sub);
      if (set.size === 0) this.byItem.delete(itemId);
    }
  }

  private schedule(sub: Subscription, urgent: boolean): void {
    if (!sub.active) return;
    const wait = urgent ? 0 : Math.max(0, sub.lastPushAt + this.options.minIntervalMs - Date.now());
    if (sub.timer !== null) {
      if (!urgent) return;
      clearTimeout(sub.timer);
    }
    sub.timer = setTimeout(() => {
      sub.timer = null;
      void this.push(sub);
    }, wait);
  }

  private async push(sub: Subscription): Promise<void> {
    if (!sub.active || !sub.data.open || sub.data.userId === null) return;
    if (sub.data.congested) {
      sub.deferred = true;
      return;
    }
    sub.lastPushAt = Date.now();
    sub.seq++;
    const startedNs = process.hrtime.bigint();
    try {
      const dealt = await this.options.dealer.deal(
        sub.data,
        {
          requestId: `${sub.requestId}#${sub.seq}`,
          userId: sub.data.userId,
          slots: sub.slots,
          context: sub.context,
          ...(sub.filters !== undefined ? { filters: sub.filters } : {}),
        },
        startedNs,
      );
      const { decision, message } = dealt;
      if (!sub.active || !sub.data.open) {
        this.options.dealer.delivered(dealt, 'closed');
        return;
      }
      this.track(
        sub,
        decision.items.map((item) => item.itemId),
        decision.segment,
      );
      message.pushed = true;
      message.subscription = sub.requestId;
      this.options.metrics.pushes++;
      this.options.dealer.delivered(dealt, sendCorked(sub.socket, sub.data, message));
    } catch (error) {
      this.options.metrics.decisionErrors++;
      this.options.logger.error(
        { err: error, subscription: sub.requestId },
        're-dealing a subscribed carousel failed',
      );
    }
  }
}
