/**
 * The WebSocket protocol of the gateway (docs/protocol.md): every client message is validated here with zod
 * before anything acts on it. The message types themselves, client and server, live in
 * src/domain/protocol-messages.ts; each schema below parses to exactly its type there (checked at compile time).
 */
import { z } from 'zod';
import type { RequestContext } from '../domain/decision.ts';
import {
  describeRange,
  ID_PATTERN,
  inRange,
  LIMITS,
  MAX_ID_LENGTH,
  type NumericRange,
} from '../domain/limits.ts';
import type {
  CarouselRequestMessage,
  ClientContext,
  ClientMessage,
  FeedbackMessage,
  HelloMessage,
  PingMessage,
  SubscribeMessage,
  UnsubscribeMessage,
} from '../domain/protocol-messages.ts';

/**
 * Ids travel into Redis keys and fields, where `|` separates parts (docs/state-layout.md); the one rule is
 * src/domain/limits.ts's, which the stream topology applies to every record too.
 */
const id = z
  .string()
  .min(1)
  .max(MAX_ID_LENGTH)
  .regex(
    ID_PATTERN,
    `must be 1-${MAX_ID_LENGTH} printable characters without "|", whitespace, control or zero-width characters`,
  );

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
  propensities: z.boolean().optional(),
  candidates: z.boolean().optional(),
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

type MessageType = ClientMessage['type'];
export const MESSAGE_TYPES = [
  'hello',
  'carousel',
  'feedback',
  'subscribe',
  'unsubscribe',
  'ping',
] as const satisfies readonly MessageType[];

/** A null-prototype table: `type in SCHEMAS` must not find `toString`, `constructor` or `__proto__`. */
const SCHEMAS: { readonly [K in MessageType]: z.ZodTypeAny } = Object.assign(Object.create(null), {
  hello: helloSchema,
  carousel: carouselRequestSchema,
  feedback: feedbackSchema,
  subscribe: subscribeSchema,
  unsubscribe: unsubscribeSchema,
  ping: pingSchema,
});

/** Whether two types are identical (same fields, same optionality), not merely assignable. */
type Same<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
type Conforms<T extends true> = T;
/** Compiles only while every schema parses to exactly its message type in src/domain/protocol-messages.ts. */
export type SchemasConform = [
  Conforms<Same<z.infer<typeof contextSchema>, ClientContext>>,
  Conforms<Same<z.infer<typeof helloSchema>, HelloMessage>>,
  Conforms<Same<z.infer<typeof carouselRequestSchema>, CarouselRequestMessage>>,
  Conforms<Same<z.infer<typeof feedbackSchema>, FeedbackMessage>>,
  Conforms<Same<z.infer<typeof subscribeSchema>, SubscribeMessage>>,
  Conforms<Same<z.infer<typeof unsubscribeSchema>, UnsubscribeMessage>>,
  Conforms<Same<z.infer<typeof pingSchema>, PingMessage>>,
];

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
      ? ((raw as { requestId: string }).requestId.slice(0, MAX_ID_LENGTH) ?? null)
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
