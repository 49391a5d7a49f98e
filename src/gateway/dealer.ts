/**
 * Deals one carousel: asks the decision core, logs what is shown (one Carousel record with propensities), remembers
 * it for the feedback that will refer to it, and builds the reply. Shared by requests and subscriptions.
 */
import type { Decision, DecisionRequest, ItemInfo, RequestContext, StateView } from '../domain/decision.ts';
import { inRange, LIMITS } from '../domain/limits.ts';
import type { CarouselMessage } from '../domain/protocol-messages.ts';
import { rememberShown, type SendOutcome, type SocketData } from './connection.ts';
import type { EventLog } from './event-log.ts';
import type { GatewayMetrics } from './metrics.ts';

/** The decision core as the gateway uses it (src/decision/decider.ts `createDecider`). */
export interface GatewayDecider {
  decide(request: DecisionRequest, view: StateView): Promise<Decision>;
  /**
   * Computes the propensities a decision left for after the reply (src/decision/decider.ts
   * `deferPropensities`); absent when every decision has them at once.
   */
  completePropensities?(decision: Decision): void;
  /**
   * `completePropensities` and the shadow model's scores of a logged candidate set, then `done`, which may run
   * later (the propensity thread, the shadow model's run).
   */
  completePropensitiesThen?(decision: Decision, done: () => void): void;
  /** The shadow model's scores of a logged candidate set, for a reply that carries the set. */
  scoreCandidates?(decision: Decision): Promise<void>;
}

export interface DealtCarousel {
  decision: Decision;
  message: CarouselMessage;
  context: RequestContext;
}

export interface Dealer {
  deal(
    data: SocketData,
    request: Omit<DecisionRequest, 'userId'> & { userId: string },
    startedNs: bigint,
  ): Promise<DealtCarousel>;
  /**
   * Logs the impressions of a dealt carousel once the socket took it (`sent`, or `buffered` under
   * backpressure). A carousel that never reached its client stays out of the off-policy log: its
   * impressions would be counted as shown and bias every estimate made from the log.
   */
  delivered(dealt: DealtCarousel, outcome: SendOutcome): void;
}

export function createDealer(deps: {
  decider: GatewayDecider;
  view: StateView;
  eventLog: EventLog;
  metrics: GatewayMetrics;
}): Dealer {
  const { decider, view, eventLog, metrics } = deps;
  let indexedPool: readonly ItemInfo[] | null = null;
  let titles = new Map<string, string>();

  const titleOf = (itemId: string): string => {
    const pool = view.items();
    if (pool !== indexedPool) {
      titles = new Map(pool.map((item) => [item.itemId, item.title]));
      indexedPool = pool;
    }
    return titles.get(itemId) ?? itemId;
  };

  return {
    async deal(data, request, startedNs) {
      const decision = await decider.decide(request, view);
      if (data.propensities) decider.completePropensities?.(decision);
      const context: RequestContext = request.context;
      const slots = new Map<string, number>();
      for (const item of decision.items) {
        slots.set(item.itemId, item.slot);
        if (!inRange(item.score, LIMITS.score)) metrics.invalidScores++;
      }
      rememberShown(data, decision.requestId, { segment: decision.segment, slots });
      const message: CarouselMessage = {
        type: 'carousel',
        requestId: decision.requestId,
        items: decision.items.map((item) => ({
          itemId: item.itemId,
          title: titleOf(item.itemId),
          slot: item.slot,
          score: item.score,
          sample: item.sample,
          ...(Number.isNaN(item.propensity) ? {} : { propensity: item.propensity }),
        })),
        policy: decision.policy,
        modelVersion: decision.modelVersion,
        experiment: decision.experiment,
        variant: decision.variant,
        serverTimeUs: 0,
      };
      // Only for a client that asked for them (a recording): the candidate set is otherwise built after the reply.
      // Such a reply waits for the shadow model's scores of the set (model.shadowVersion), which it carries too.
      if (data.candidates && decision.candidates !== undefined) {
        await decider.scoreCandidates?.(decision);
        message.candidates = decision.candidates.resolve();
      }
      message.serverTimeUs = Math.round(Number(process.hrtime.bigint() - startedNs) / 1000);
      metrics.recordDecision(message.serverTimeUs, decision.timings);
      metrics.modelVersion = decision.modelVersion;
      return { decision, message, context };
    },
    delivered(dealt, outcome) {
      if (outcome !== 'sent' && outcome !== 'buffered') {
        metrics.undelivered++;
        return;
      }
      // The reply is on its way: now the propensities it did not wait for, which the carousel record carries.
      // It also carries the shadow policy's slot and probability of each shown item; the reply is built from
      // `decision.items` alone, so the shadow slate is never shown.
      if (decider.completePropensitiesThen !== undefined) {
        // Queued now, in order with the feedback that will follow; sent once its propensities are in.
        const release = eventLog.holdCarousel(dealt.decision, dealt.context);
        decider.completePropensitiesThen(dealt.decision, release);
        return;
      }
      decider.completePropensities?.(dealt.decision);
      eventLog.logCarousel(dealt.decision, dealt.context);
    },
  };
}
