/**
 * Steady carousel traffic with clicks, as a reliability run drives it: `clients` WebSocket connections (one user
 * each) share an open-loop rate of `rate` carousels per second; a share `clickRate` of served carousels gets a
 * click on one shown item. A connection that drops reconnects (every 250 ms) and says hello again; a carousel
 * due while its connection is down, answered with an error, or not answered within `timeoutMs` counts as failed.
 * Every carousel is tagged with whether the gateway said it was ready (`isReady`) when it was answered.
 */
import WebSocket from 'ws';
import { createRng } from '../../src/stats/rng.ts';

export interface TrafficCounters {
  /** Carousels due. */
  sent: number;
  /** Answered with at least one item. */
  served: number;
  /** Answered with no item. */
  empty: number;
  /** Answered with no item while /readyz said ready. */
  emptyWhileReady: number;
  /** Not answered: no connection, an error reply, or no reply in time. */
  failed: number;
  /** Items shown in served carousels (each is an impression the gateway logs). */
  impressionsShown: number;
  clicksSent: number;
  /** Clicks the gateway acknowledged as counted. */
  clicksAcked: number;
}

export interface TrafficOptions {
  url: () => string;
  rate: number;
  clients: number;
  slots: number;
  clickRate: number;
  isReady: () => boolean;
  timeoutMs?: number;
  /** Seeds the clicks and the item clicked. */
  seed?: number;
  /** A connection acts for a new user (a new `hello`) after this many carousels; absent: one user each. */
  userChurnEvery?: number;
}

export interface CarouselTraffic {
  counters(): TrafficCounters;
  /** How many carousels in a row were served, up to now (a failure or an empty one starts it again). */
  lastServedRun(): number;
  stop(): Promise<void>;
}

interface Connection {
  ws: WebSocket | null;
  ready: boolean;
  index: number;
  userId: string;
  requests: number;
  pending: Map<string, (reply: Record<string, unknown> | null) => void>;
}

export function startCarouselTraffic(options: TrafficOptions): CarouselTraffic {
  const timeoutMs = options.timeoutMs ?? 2000;
  const rng = createRng(options.seed ?? 1);
  const random = () => rng.next();
  const counters: TrafficCounters = {
    sent: 0,
    served: 0,
    empty: 0,
    emptyWhileReady: 0,
    failed: 0,
    impressionsShown: 0,
    clicksSent: 0,
    clicksAcked: 0,
  };
  let servedRun = 0;
  let stopped = false;
  let nextRequest = 0;
  const connections: Connection[] = Array.from({ length: options.clients }, (_, i) => ({
    ws: null,
    ready: false,
    index: i,
    userId: `u${i}`,
    requests: 0,
    pending: new Map(),
  }));

  const wsUrl = () => `${options.url().replace(/^http/, 'ws').replace(/\/?$/, '')}/ws`;

  function connect(c: Connection): void {
    if (stopped) return;
    const ws = new WebSocket(wsUrl());
    c.ws = ws;
    ws.on('open', () => ws.send(JSON.stringify({ type: 'hello', userId: c.userId })));
    ws.on('message', (data) => {
      let message: Record<string, unknown>;
      try {
        message = JSON.parse(String(data)) as Record<string, unknown>;
      } catch {
        return;
      }
      if (message.type === 'welcome') c.ready = true;
      else if (message.type === 'feedback-ack' && message.counted !== false) counters.clicksAcked++;
      else if (message.type === 'carousel' || message.type === 'error') {
        const id = String(message.requestId ?? '');
        const waiter = c.pending.get(id);
        if (waiter !== undefined) {
          c.pending.delete(id);
          waiter(message);
        }
      }
    });
    ws.on('error', () => undefined);
    ws.on('close', () => {
      c.ready = false;
      c.ws = null;
      for (const waiter of c.pending.values()) waiter(null);
      c.pending.clear();
      setTimeout(() => connect(c), 250);
    });
  }
  for (const c of connections) connect(c);

  function fail(): void {
    counters.failed++;
    servedRun = 0;
  }

  function request(c: Connection): void {
    counters.sent++;
    const ws = c.ws;
    if (ws === null || !c.ready || ws.readyState !== WebSocket.OPEN) {
      fail();
      return;
    }
    c.requests++;
    if (options.userChurnEvery !== undefined && c.requests % options.userChurnEvery === 0) {
      c.userId = `u${c.index}-${c.requests / options.userChurnEvery}`;
      ws.send(JSON.stringify({ type: 'hello', userId: c.userId }));
    }
    const requestId = `r${nextRequest++}`;
    let settled = false;
    const timer = setTimeout(() => settle(null), timeoutMs);
    function settle(reply: Record<string, unknown> | null): void {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      c.pending.delete(requestId);
      if (reply === null || reply.type !== 'carousel') {
        fail();
        return;
      }
      const items = (reply.items ?? []) as { itemId: string }[];
      if (items.length === 0) {
        counters.empty++;
        servedRun = 0;
        if (options.isReady()) counters.emptyWhileReady++;
        return;
      }
      counters.served++;
      servedRun++;
      counters.impressionsShown += items.length;
      if (random() < options.clickRate && ws !== null && ws.readyState === WebSocket.OPEN) {
        const item = items[Math.floor(random() * items.length)];
        counters.clicksSent++;
        ws.send(JSON.stringify({ type: 'feedback', requestId, itemId: item.itemId, kind: 'click' }));
      }
    }
    c.pending.set(requestId, settle);
    ws.send(JSON.stringify({ type: 'carousel', requestId, slots: options.slots }));
  }

  // Open loop: every 10 ms, the carousels due since the start, round-robin over the connections.
  const startedAt = Date.now();
  let due = 0;
  let turn = 0;
  const ticker = setInterval(() => {
    const target = Math.floor(((Date.now() - startedAt) / 1000) * options.rate);
    for (; due < target; due++) request(connections[turn++ % connections.length]);
  }, 10);

  return {
    counters: () => ({ ...counters }),
    lastServedRun: () => servedRun,
    async stop() {
      stopped = true;
      clearInterval(ticker);
      // Replies in flight are answered or time out.
      await new Promise((r) => setTimeout(r, timeoutMs));
      for (const c of connections) c.ws?.close();
    },
  };
}
