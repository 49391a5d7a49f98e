/**
 * croupier's event contracts: one Avro schema (`.avsc`, next to this file) per record type, their
 * TypeScript shapes, and a loader that parses them with avsc.
 *
 * Topic → schemas (subjects use the record-name strategy for the clickstream, `<topic>-<record full name>`,
 * so one topic carries five record types; the CDC and dead-letter topics carry one type each):
 * - clickstream (key userId): Carousel (one per dealt carousel, what the gateway logs), Impression (one per
 *   shown item, the older form, still read everywhere), Click, Conversion, Watch
 * - cdc.items (key itemId): ItemChange;  cdc.users (key userId): UserChange
 * - croupier.dlq: DeadLetter
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import avro from 'avsc';

export const SCHEMA_NAMES = [
  'Impression',
  'Click',
  'Conversion',
  'Watch',
  'ItemChange',
  'UserChange',
  'DeadLetter',
  'Carousel',
] as const;
export type SchemaName = (typeof SCHEMA_NAMES)[number];

export const CLICKSTREAM_SCHEMAS = ['Impression', 'Click', 'Conversion', 'Watch', 'Carousel'] as const;
export type ClickstreamSchemaName = (typeof CLICKSTREAM_SCHEMAS)[number];

export interface EventContext {
  device: string | null;
  country: string | null;
  page: string | null;
}

export interface Impression {
  eventId: string;
  requestId: string;
  userId: string;
  itemId: string;
  slot: number;
  policy: string;
  modelVersion: string;
  propensity: number;
  score: number | null;
  experiment: string | null;
  variant: string | null;
  segment: string | null;
  context: EventContext | null;
  timestamp: number;
  /**
   * The shadow policy computed for the same request (logged, never shown); absent or null when there was none.
   * Absent fields encode as null, so producers that never have a shadow policy may leave the three out.
   */
  shadowPolicy?: string | null;
  /** Slot the shadow policy put this item in; null when its slate did not hold the item. */
  shadowSlot?: number | null;
  /** Probability that the shadow policy puts this item in `slot`, in [0, 1] (the off-policy target probability). */
  shadowPropensity?: number | null;
}

/** One shown item of a Carousel record. */
export interface CarouselItem {
  itemId: string;
  slot: number;
  score: number | null;
  /** Probability that the logging policy puts this item in `slot`, in (0, 1]. */
  propensity: number;
  /** Slot the shadow policy put this item in; null when its slate did not hold the item (or there was none). */
  shadowSlot: number | null;
  /** Probability that the shadow policy puts this item in `slot`, in [0, 1]; null without a shadow policy. */
  shadowPropensity: number | null;
  /** The feature row the model scored for this item (float32 values, the feature spec's order); null when not logged. */
  features: number[] | null;
}

/**
 * The candidate set of a decision (Carousel's `candidates`): every candidate the policy ranked, the model's p̂ of it
 * and the arm counts the policy read, with the posterior settings that turned them into the logged slate. With it,
 * any policy that is a function of (p̂, counts) can be replayed on the logged decision (src/shadow).
 */
export interface CandidateSet {
  /** Every candidate of the decision, in the order the decider ranked them. */
  itemIds: string[];
  /** The serving model's p̂ of each candidate. */
  scores: number[];
  /** The arm impressions of each candidate in the decision's segment (as the policy read them). */
  impressions: number[];
  /** The arm clicks of each candidate in the decision's segment. */
  clicks: number[];
  /** Strength m of the model-informed prior the logging policy used. */
  priorStrength: number;
  /** Thompson sampling's tempering τ₀ and n₀ (1 and 1: untempered). */
  temperature: number;
  temperingImpressions: number;
  /** ε of epsilon-greedy and c of UCB1 in force for the decision. */
  epsilon: number;
  ucbC: number;
  /** Version of the shadow model (`model.shadowVersion`) that also scored the candidates; null when none. */
  shadowModelVersion: string | null;
  /** The shadow model's p̂ of each candidate (never shown); null when no shadow model scored them. */
  shadowScores: number[] | null;
}

/**
 * One dealt carousel: what `Impression` says per shown item, said once, with every shown item as an element of
 * `items` (slot order). The topology counts each element as one impression.
 */
export interface Carousel {
  eventId: string;
  requestId: string;
  userId: string;
  policy: string;
  modelVersion: string;
  experiment: string | null;
  variant: string | null;
  segment: string | null;
  context: EventContext | null;
  timestamp: number;
  shadowPolicy: string | null;
  /** `sha256:<hex>` of the feature spec the items' `features` follow; null when no row was logged. */
  featureSpecHash: string | null;
  items: CarouselItem[];
  /**
   * Every candidate of the decision with the model's p̂ and the arm counts the policy read, for the sampled share
   * of carousels that log it (`log.candidateSampleRate`); null (or absent in records written before) otherwise.
   */
  candidates?: CandidateSet | null;
}

export interface Click {
  eventId: string;
  requestId: string;
  userId: string;
  itemId: string;
  slot: number | null;
  segment: string | null;
  timestamp: number;
}

export interface Conversion {
  eventId: string;
  requestId: string;
  userId: string;
  itemId: string;
  value: number;
  timestamp: number;
}

export interface Watch {
  eventId: string;
  requestId: string;
  userId: string;
  itemId: string;
  watchTimeMs: number;
  timestamp: number;
}

export interface ItemRow {
  itemId: string;
  title: string;
  category: string;
  tags: string[];
  available: boolean;
  createdAt: number;
}

export interface UserRow {
  userId: string;
  segment: string;
  country: string;
  subscribed: boolean;
}

/**
 * c create, u update, d delete, r snapshot read, t truncate (every row of the source table gone: `before` and
 * `after` null, written to every partition of the topic, see streams/fold/cdc.ts).
 */
export type CdcOp = 'c' | 'u' | 'd' | 'r' | 't';

export interface CdcSource {
  connector: string;
  db: string;
  table: string;
  ts_ms: number;
  lsn: number | null;
  /** Transaction id (croupier's PostgreSQL source; older records and other sources have none). */
  txId?: number | null;
  /** LSN of the transaction's commit; null or absent for snapshot reads and sources without it. */
  commitLsn?: number | null;
}

export interface ChangeEnvelope<Row> {
  before: Row | null;
  after: Row | null;
  op: CdcOp;
  ts_ms: number;
  source: CdcSource;
}

export type ItemChange = ChangeEnvelope<ItemRow>;
export type UserChange = ChangeEnvelope<UserRow>;

export interface DeadLetter {
  topic: string;
  partition: number;
  offset: number;
  key: Buffer | null;
  value: Buffer | null;
  errorCode: string;
  errorMessage: string;
  timestamp: number;
}

export interface RecordShapes {
  Impression: Impression;
  Click: Click;
  Conversion: Conversion;
  Watch: Watch;
  ItemChange: ItemChange;
  UserChange: UserChange;
  DeadLetter: DeadLetter;
  Carousel: Carousel;
}

/** A clickstream event tagged with its record type. */
export type ClickstreamEvent =
  | { type: 'Carousel'; event: Carousel }
  | { type: 'Impression'; event: Impression }
  | { type: 'Click'; event: Click }
  | { type: 'Conversion'; event: Conversion }
  | { type: 'Watch'; event: Watch };

const SCHEMA_DIR = fileURLToPath(new URL('.', import.meta.url));

/** The schema text (JSON) of one record type, as registered with the schema registry. */
export function readSchemaText(name: SchemaName): string {
  return readFileSync(`${SCHEMA_DIR}${name}.avsc`, 'utf8');
}

export type Schemas = { readonly [K in SchemaName]: avro.Type };

/** Parses every contract once; pass the result to whoever encodes or decodes. */
export function loadSchemas(): Schemas {
  const out: Partial<Record<SchemaName, avro.Type>> = {};
  for (const name of SCHEMA_NAMES) out[name] = avro.Type.forSchema(JSON.parse(readSchemaText(name)));
  return Object.freeze(out) as Schemas;
}

/** Full Avro name of a record type, e.g. `croupier.events.Impression`. */
export function fullName(schemas: Schemas, name: SchemaName): string {
  return schemas[name].name ?? name;
}
