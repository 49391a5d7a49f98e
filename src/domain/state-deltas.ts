/**
 * What a fold of one partition batch changes: the contract between the pure folds (streams/fold) that compute
 * it and the state writer (src/state/writer) that adds it to Redis in one script call. docs/state-layout.md
 * says how each counter is stored.
 */
import type { ItemRow, UserRow } from '../../streams/schemas/index.ts';

export interface ArmDelta {
  itemId: string;
  /** Context segment, `*` for the global arm. */
  segment: string;
  imp: number;
  clk: number;
}

export interface ItemDelta {
  itemId: string;
  imp: number;
  clk: number;
  conv: number;
  convValue: number;
  watchMs: number;
  /** Latest event time in the batch (ms). */
  seen: number;
  /** Decayed impressions and clicks of the batch, both valid at `decayAt` (0 when the batch had neither). */
  decayImp: number;
  decayClk: number;
  decayAt: number;
}

export interface UserDelta {
  userId: string;
  imp: number;
  clk: number;
  conv: number;
  convValue: number;
  watchMs: number;
  lastActive: number;
  /** Items clicked in the batch, oldest first, each once (its latest click), at most `recentClicks`. */
  recent: string[];
}

/** A click whose impression was not in the batch: the script looks up `req:<userId>|<requestId>` for it. */
export interface ClickLookup {
  userId: string;
  requestId: string;
  itemId: string;
  /** The click's own segment; empty: use the segment stored with the impression. */
  segment: string;
}

export interface ClickstreamDelta {
  /** Events folded. */
  events: number;
  /** Keyed `<itemId>|<segment>`. */
  arms: Map<string, ArmDelta>;
  items: Map<string, ItemDelta>;
  users: Map<string, UserDelta>;
  /**
   * `<userId>|<requestId>` (requestRecordId) → itemId → `<slot>|<segment>` of what the request showed that user:
   * request ids are the clients', so two users may use one, and each has its own record.
   */
  requests: Map<string, Map<string, string>>;
  lookups: ClickLookup[];
  /**
   * Kafka's timestamps (ms) of the batch's clicks, at most CLICK_TIMES_KEPT: the change feed entry carries them,
   * so a reader can tell how long a click took to reach it.
   */
  clickTimes?: number[];
}

/** Most click timestamps one change feed entry carries. */
export const CLICK_TIMES_KEPT = 64;

export interface CdcDelta {
  /** Changes folded. */
  events: number;
  /** key → row JSON to store, or null to delete the key. */
  rows: Map<string, string | null>;
  /** key → value for the change feed (`null`: deleted or no longer shown). */
  feed: Map<string, ItemRow | UserRow | null>;
  /**
   * key → the source position (streams/fold/source-position.ts) of its change, for changes that carry one: the
   * apply script skips a key whose stored position is as new or newer (a change re-sent by the source).
   */
  positions?: Map<string, string>;
  /**
   * The source position of the batch's last truncate (op `t`), or `''` for one without a position: before the
   * batch's other changes, the apply script removes every row of the partition whose stored position is older
   * (every row, for `''`) and gives it the truncate's position, so a re-sent truncate removes nothing newer.
   * The changes folded above are those after that truncate.
   */
  truncate?: string;
  /**
   * The batch's last truncate is a snapshot's (it has no transaction id): a new snapshot of the whole table
   * follows it, so every row and every key's position go, whatever their positions (a database restored to an
   * earlier point, or a replica promoted without WAL the source had streamed, gives LSNs below those held).
   */
  truncateResets?: boolean;
}

/**
 * The id of a request's record, `<userId>|<requestId>`: request ids are chosen by clients, so the record is one
 * user's (ids never contain `|`, so the pair is unambiguous).
 */
export function requestRecordId(userId: string, requestId: string): string {
  return `${userId}|${requestId}`;
}

/**
 * The field of a request's record in the layout before records were keyed by user (`req:<requestId>`) that names
 * the user it was dealt to, beside its itemId fields; read for such records until they expire (the attribution
 * window), never written. No itemId can take this name, since ids never contain `|`.
 */
export const REQUEST_USER_FIELD = '|user';

/**
 * What a request's record (its logged impressions, written by the topology) says of an item: the record shows it,
 * the record exists without it, or there is no record of that request for that user (never dealt, expired, or not
 * folded yet).
 */
export type ShownCheck = 'shown' | 'not shown' | 'no record';
