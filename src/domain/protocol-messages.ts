/**
 * The messages of the gateway's WebSocket protocol (docs/protocol.md), as types only: what a client sends and
 * what the gateway answers. The gateway validates client messages against zod schemas that parse to exactly
 * these types (src/gateway/protocol.ts); the simulator, the load generator and the tests build and read
 * messages with them.
 */
import type { CandidateSet } from './candidate-set.ts';
import type { PolicyName } from './policy-names.ts';

// ---- client messages ------------------------------------------------------------------------------------

/** Request context a client may send with hello, carousel and subscribe (missing fields keep the hello's). */
export interface ClientContext {
  device?: string | null;
  country?: string | null;
  page?: string | null;
}

export interface CarouselFilters {
  category?: string;
}

export interface HelloMessage {
  type: 'hello';
  /** Signed client token (required unless the gateway runs with auth off). */
  token?: string;
  userId: string;
  context?: ClientContext;
  /**
   * Carousels carry each item's propensity. Thompson sampling's are computed after the reply is sent (the
   * impressions in the log always carry them); a client that asks for them here waits for them instead.
   */
  propensities?: boolean;
  /**
   * Carousels whose candidate set is logged (`log.candidateSampleRate`) carry it too, for recordings that shadow
   * tests read (`croupier simulate --record`); the reply then waits for it, as for propensities.
   */
  candidates?: boolean;
}

export interface CarouselRequestMessage {
  type: 'carousel';
  requestId: string;
  slots: number;
  context?: ClientContext;
  filters?: CarouselFilters;
}

export type FeedbackKind = 'click' | 'conversion' | 'watch';

export interface FeedbackMessage {
  type: 'feedback';
  /** The carousel the feedback is about. */
  requestId: string;
  itemId: string;
  kind: FeedbackKind;
  /** Required for a conversion. */
  value?: number;
  /** Required for a watch. */
  watchTimeMs?: number;
}

/** A carousel request whose carousel is pushed again when its items' posteriors move. */
export interface SubscribeMessage {
  type: 'subscribe';
  requestId: string;
  slots: number;
  context?: ClientContext;
  filters?: CarouselFilters;
}

/** Ends one subscription (`requestId`), or every one of the connection. */
export interface UnsubscribeMessage {
  type: 'unsubscribe';
  requestId?: string;
}

export interface PingMessage {
  type: 'ping';
}

export type ClientMessage =
  | HelloMessage
  | CarouselRequestMessage
  | FeedbackMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | PingMessage;

// ---- server messages ------------------------------------------------------------------------------------

export interface WelcomeMessage {
  type: 'welcome';
  sessionId: string;
  userId: string;
}

export interface CarouselItemMessage {
  itemId: string;
  title: string;
  slot: number;
  score: number;
  sample: number;
  /** Present where known when the reply is sent (exact policies), or when the hello asked for propensities. */
  propensity?: number;
}

export interface CarouselMessage {
  type: 'carousel';
  requestId: string;
  items: CarouselItemMessage[];
  policy: PolicyName;
  modelVersion: string;
  experiment: string | null;
  variant: string | null;
  serverTimeUs: number;
  /** The logged candidate set, when the hello asked for candidate sets and this carousel's was logged. */
  candidates?: CandidateSet;
  /** Set on carousels a subscription pushed; `subscription` names the subscribe's requestId. */
  pushed?: true;
  subscription?: string;
}

export interface FeedbackAckMessage {
  type: 'feedback-ack';
  requestId: string;
  itemId: string;
  /** Present (false) when the feedback was not counted: the referenced carousel did not show the item. */
  counted?: false;
}

export interface ErrorMessage {
  type: 'error';
  /** A `CROUPIER_ERR_GATEWAY_*` code. */
  code: string;
  message: string;
  /** The request the error answers, when the message had one. */
  requestId: string | null;
}

export interface PongMessage {
  type: 'pong';
}

export interface UnsubscribedMessage {
  type: 'unsubscribed';
  requestId: string | null;
}

export type ServerMessage =
  | WelcomeMessage
  | CarouselMessage
  | FeedbackAckMessage
  | ErrorMessage
  | PongMessage
  | UnsubscribedMessage;
