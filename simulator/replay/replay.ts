/**
 * Re-sends recorded traffic to a gateway at a chosen speed-up: every recorded carousel request (as the same
 * user, with the same slots and context), and the recorded feedback of an item only when the gateway's
 * current policy shows that item again. It reports how often the current policy repeats the recorded
 * choices, and an off-policy estimate of the current policy's click-through rate from the recorded
 * propensities.
 *
 * The estimate: each recorded impression (item i in slot s, click r, logging propensity μ) gets the target
 * probability 1 when the replayed slate puts i in slot s, else 0. That indicator is an unbiased draw of the
 * current policy's own propensity π(i, s), so IPS = mean(r · 1{…} / μ) is unbiased for the current policy's
 * clicks per slot (SNIPS divides by the summed weights instead).
 */
import * as hdr from 'hdr-histogram-js';
import type {
  CarouselMessage,
  CarouselRequestMessage,
  FeedbackMessage,
} from '../../src/domain/protocol-messages.ts';
import type { Logger } from '../../src/log/logger.ts';
import { ips, type OffPolicyEstimate, snips } from '../../src/stats/off-policy.ts';
import { GatewayClient } from '../client/gateway-client.ts';
import type { RecordedEvent } from './recording.ts';

export interface ReplayOptions {
  url: string;
  events: readonly RecordedEvent[];
  /** 2 = twice as fast as recorded. */
  speedup: number;
  clients: number;
  logger: Logger;
}

export interface ReplayResult {
  requests: number;
  replied: number;
  failed: number;
  /** Error codes the gateway answered with, and how often. */
  errorCodes: Record<string, number>;
  /** Share of recorded shown items that the current policy shows again (any slot). */
  itemMatchRate: number;
  /** Share of recorded shown items that the current policy shows again in the same slot. */
  slotMatchRate: number;
  feedbackResent: number;
  feedbackSkipped: number;
  /** Clicks per recorded impression under the recording policy. */
  loggedCtr: number;
  /** Off-policy estimates of the current policy's clicks per impression. */
  ips: OffPolicyEstimate | null;
  snips: OffPolicyEstimate | null;
  latencyMs: { p50: number; p99: number };
}

interface Exchange {
  t: number;
  userId: string;
  request: CarouselRequestMessage;
  response: CarouselMessage | null;
  feedback: FeedbackMessage[];
}

/** Requests with the response and the feedback recorded for them, in recorded order. */
export function exchangesOf(events: readonly RecordedEvent[]): Exchange[] {
  const byId = new Map<string, Exchange>();
  const out: Exchange[] = [];
  for (const event of events) {
    if (event.kind === 'request') {
      const exchange = {
        t: event.t,
        userId: event.userId,
        request: event.request,
        response: null,
        feedback: [],
      };
      byId.set(event.request.requestId, exchange);
      out.push(exchange);
    } else if (event.kind === 'response') {
      const exchange = byId.get(event.response.requestId);
      if (exchange) exchange.response = event.response;
    } else if (event.kind === 'feedback') {
      byId.get(event.feedback.requestId)?.feedback.push(event.feedback);
    }
  }
  return out;
}

function hashOf(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return h >>> 0;
}

export async function replayRecording(options: ReplayOptions): Promise<ReplayResult> {
  const exchanges = exchangesOf(options.events).filter((e) => e.response !== null);
  const clients = await Promise.all(
    Array.from({ length: options.clients }, () => GatewayClient.connect({ url: options.url })),
  );
  const currentUser: (string | null)[] = clients.map(() => null);
  const chains: Promise<void>[] = clients.map(() => Promise.resolve());
  const latency = hdr.build({
    lowestDiscernibleValue: 1,
    highestTrackableValue: 600_000_000,
    numberOfSignificantValueDigits: 3,
  });
  const reward: number[] = [];
  const propensity: number[] = [];
  const target: number[] = [];
  let replied = 0;
  let failed = 0;
  const errorCodes: Record<string, number> = {};
  let shown = 0;
  let itemMatches = 0;
  let slotMatches = 0;
  let resent = 0;
  let skipped = 0;
  let loggedClicks = 0;
  const start = performance.now();
  const origin = exchanges[0]?.t ?? 0;

  const replayOne = async (client: number, exchange: Exchange, index: number) => {
    const gateway = clients[client];
    if (currentUser[client] !== exchange.userId) {
      await gateway.hello(exchange.userId, exchange.request.context);
      currentUser[client] = exchange.userId;
    }
    const requestId = `replay-${index}-${exchange.request.requestId}`.slice(0, 128);
    const sentAt = performance.now();
    const reply = await gateway.carousel({ ...exchange.request, requestId }).catch(() => null);
    latency.recordValue(Math.max(1, Math.round((performance.now() - sentAt) * 1000)));
    if (reply === null || reply.type === 'error') {
      const code = reply === null ? 'timeout' : reply.code;
      errorCodes[code] = (errorCodes[code] ?? 0) + 1;
      failed++;
      return;
    }
    replied++;
    const now = new Map(reply.items.map((item) => [item.itemId, item.slot]));
    const clicked = new Set(exchange.feedback.filter((f) => f.kind === 'click').map((f) => f.itemId));
    for (const item of exchange.response?.items ?? []) {
      shown++;
      const slot = now.get(item.itemId);
      if (slot !== undefined) itemMatches++;
      if (slot === item.slot) slotMatches++;
      const r = clicked.has(item.itemId) ? 1 : 0;
      loggedClicks += r;
      const mu = item.propensity;
      if (mu !== undefined && mu > 0 && mu <= 1) {
        reward.push(r);
        propensity.push(mu);
        target.push(slot === item.slot ? 1 : 0);
      }
    }
    for (const feedback of exchange.feedback) {
      if (!now.has(feedback.itemId)) {
        skipped++;
        continue;
      }
      gateway.send({ ...feedback, requestId });
      resent++;
    }
  };

  for (const [index, exchange] of exchanges.entries()) {
    const due = (exchange.t - origin) / options.speedup;
    const wait = due - (performance.now() - start);
    if (wait > 2) await new Promise((resolve) => setTimeout(resolve, wait));
    const client = hashOf(exchange.userId) % clients.length;
    chains[client] = chains[client]
      .then(() => replayOne(client, exchange, index))
      .catch((error) => {
        failed++;
        options.logger.warn({ err: error }, 'replayed request failed');
      });
  }
  await Promise.all(chains);
  await Promise.all(clients.map((c) => c.close()));
  const data = { reward, propensity, targetProbability: target };
  return {
    requests: exchanges.length,
    replied,
    failed,
    errorCodes,
    itemMatchRate: shown > 0 ? itemMatches / shown : 0,
    slotMatchRate: shown > 0 ? slotMatches / shown : 0,
    feedbackResent: resent,
    feedbackSkipped: skipped,
    loggedCtr: shown > 0 ? loggedClicks / shown : 0,
    ips: reward.length > 1 ? ips(data) : null,
    snips: reward.length > 1 && target.some((t) => t > 0) ? snips(data) : null,
    latencyMs: { p50: latency.getValueAtPercentile(50) / 1000, p99: latency.getValueAtPercentile(99) / 1000 },
  };
}
