/**
 * The WebSocket protocol of the gateway (docs/protocol.md): every client message is validated here with zod
 * before anything acts on it, and every server message has a type below.
 */
import { z } from 'zod';
import type { PolicyName, RequestContext } from '../decision/types.ts';
import { describeRange, inRange, LIMITS, type NumericRange } from '../domain/limits.ts';

/**
 * Ids travel into Redis keys and fields, where `|` separates parts (docs/state-layout.md); control, format
 * (zero-width) and lone surrogate characters are refused as well, so an id prints and compares as it reads.
 */
const id = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[^|\s\p{C}]+$/u, 'must be 1-128 printable characters without "|" or whitespace');

/** A finite number in one of the documented ranges (src/domain/limits.ts). */
function bounded(range: NumericRange) {
  return z
    .number()
    .refine((n) => Number.isFinite(n), 'must be a finite number')
    .refine((n) => inRange(n, range), `must be ${describeRange(range)}`);
}

const contextSchema = z
  .object({
    device: z.string().max(32).nullish(),
    country: z.string().max(8).nullish(),
    page: z.string().max(64).nullish(),
  })
  .strict();

const filtersSchema = z.object({ category: z.string().min(1).max(64).optional() }).strict();

const slots = bounded(LIMITS.slots);

export const helloSchema = z.object({
  type: z.literal('hello'),
  token: z.string().max(2048).optional(),
  userId: id,
  context: contextSchema.optional(),
});

export const carouselRequestSchema = z.object({
  type: z.literal('carousel'),
  requestId: id,
  slots,
  context: contextSchema.optional(),
  filters: filtersSchema.optional(),
});

export const feedbackSchema = z
  .object({
    type: z.literal('feedback'),
    requestId: id,
    itemId: id,
    kind: z.enum(['click', 'conversion', 'watch']),
    value: bounded(LIMITS.conversionValue).optional(),
    watchTimeMs: bounded(LIMITS.watchTimeMs).optional(),
  })
  .refine((m) => m.kind !== 'conversion' || m.value !== undefined, {
    message: 'a conversion needs a value (>= 0)',
    path: ['value'],
  })
  .refine((m) => m.kind !== 'watch' || m.watchTimeMs !== undefined, {
    message: 'a watch needs watchTimeMs (>= 0)',
    path: ['watchTimeMs'],
  });

export const subscribeSchema = z.object({
  type: z.literal('subscribe'),
  requestId: id,
  slots,
  context: contextSchema.optional(),
  filters: filtersSchema.optional(),
});

export const unsubscribeSchema = z.object({ type: z.literal('unsubscribe'), requestId: id.optional() });
export const pingSchema = z.object({ type: z.literal('ping') });

export const MESSAGE_TYPES = ['hello', 'carousel', 'feedback', 'subscribe', 'unsubscribe', 'ping'] as const;
type MessageType = (typeof MESSAGE_TYPES)[number];

/** A null-prototype table: `type in SCHEMAS` must not find `toString`, `constructor` or `__proto__`. */
const SCHEMAS: { readonly [K in MessageType]: z.ZodTypeAny } = Object.assign(Object.create(null), {
  hello: helloSchema,
  carousel: carouselRequestSchema,
  feedback: feedbackSchema,
  subscribe: subscribeSchema,
  unsubscribe: unsubscribeSchema,
  ping: pingSchema,
});

export type HelloMessage = z.infer<typeof helloSchema>;
export type CarouselRequestMessage = z.infer<typeof carouselRequestSchema>;
export type FeedbackMessage = z.infer<typeof feedbackSchema>;
export type SubscribeMessage = z.infer<typeof subscribeSchema>;
export type UnsubscribeMessage = z.infer<typeof unsubscribeSchema>;
export type ClientMessage =
  | HelloMessage
  | CarouselRequestMessage
  | FeedbackMessage
  | SubscribeMessage
  | UnsubscribeMessage
  | { type: 'ping' };
export type ClientContext = z.infer<typeof contextSchema>;

export type ParseResult =
  | { ok: true; message: ClientMessage }
  | {
      ok: false;
      code: 'CROUPIER_ERR_GATEWAY_BAD_JSON' | 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE';
      message: string;
      requestId: string | null;
    };

/** Parses one text frame. Never throws: a bad frame gives what was wrong and where. */
export function parseClientMessage(text: string): ParseResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    return {
      ok: false,
      code: 'CROUPIER_ERR_GATEWAY_BAD_JSON',
      message: `the frame is not JSON (${(error as Error).message})`,
      requestId: null,
    };
  }
  const requestId =
    typeof raw === 'object' && raw !== null && typeof (raw as { requestId?: unknown }).requestId === 'string'
      ? ((raw as { requestId: string }).requestId.slice(0, 128) ?? null)
      : null;
  const type = typeof raw === 'object' && raw !== null ? (raw as { type?: unknown }).type : undefined;
  if (typeof type !== 'string' || !Object.hasOwn(SCHEMAS, type)) {
    return {
      ok: false,
      code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE',
      message: `"type" must be one of ${MESSAGE_TYPES.join(', ')}`,
      requestId,
    };
  }
  const parsed = SCHEMAS[type as MessageType].safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.length > 0 ? issue.path.join('.') : '(message)';
    return {
      ok: false,
      code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE',
      message: `${type}: ${where}: ${issue.message}`,
      requestId,
    };
  }
  return { ok: true, message: parsed.data as ClientMessage };
}

/** A client context merged over the hello's, as the decision core wants it. */
export function mergeContext(base: RequestContext, over: ClientContext | undefined): RequestContext {
  if (over === undefined) return base;
  return {
    device: over.device ?? base.device,
    country: over.country ?? base.country,
    page: over.page ?? base.page,
  };
}

export const EMPTY_CONTEXT: RequestContext = Object.freeze({ device: null, country: null, page: null });

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
  propensity: number;
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
  code: string;
  message: string;
  requestId: string | null;
}

export type ServerMessage =
  | WelcomeMessage
  | CarouselMessage
  | FeedbackAckMessage
  | ErrorMessage
  | { type: 'pong' }
  | { type: 'unsubscribed'; requestId: string | null };
