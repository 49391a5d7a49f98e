/**
 * The live reader's in-memory tables, the state the gateway decides from: posteriors, item features, the item pool
 * and users, kept per partition as the change feeds last reported them, with sums over the clickstream partitions.
 *
 * Pure data: the snapshot loader (snapshot.ts) and the feed entries (apply-feed-entry.ts) call `set*` / `replace*`.
 * Every setter takes the absolute value of one partition, so applying a change-feed entry twice changes nothing.
 * `evictIdle` bounds the tables: users not seen for a while and the counts of items no longer in the catalog leave
 * them (a user's activity is loaded again on its next hello).
 */
import type { ArmStats, ItemFeatures, ItemInfo, StateView, UserFeatures } from '../../domain/decision.ts';
import type { ItemCounters, StoredUserRow, UserActivity } from '../layout/feed-entry.ts';

/** A user's attributes from `cdc.users` (the stored row without its id). */
export type UserRowData = Omit<StoredUserRow, 'userId'>;

/** What one applied batch changed; the gateway's subscriptions listen to it. */
export interface StateChange {
  /** Items whose posteriors or features changed. */
  readonly items: ReadonlySet<string>;
  /** Items that left the pool (unavailable or deleted). */
  readonly removed: ReadonlySet<string>;
  /** Whether the pool changed at all (an item added, changed or removed). */
  readonly poolChanged: boolean;
}

export type StateChangeListener = (change: StateChange) => void;

/** What `evictIdle` removed. */
export interface Eviction {
  users: number;
  items: number;
}

const ZERO_ARM: Readonly<ArmStats> = Object.freeze({ impressions: 0, clicks: 0 });

export class StateTables implements StateView {
  private readonly halfLifeMs: number;
  /** Per clickstream partition: `itemId|segment` → [imp, clk]. */
  private readonly posteriorByPartition = new Map<number, Map<string, [number, number]>>();
  /** segment → itemId → counts summed over partitions: read per candidate without building a key. */
  private readonly armSums = new Map<string, Map<string, ArmStats>>();
  private readonly itemByPartition = new Map<number, Map<string, ItemCounters>>();
  /** Summed features per item, updated in place when a partition's counters change; read without allocation. */
  private readonly itemSums = new Map<string, ItemFeatures>();
  private readonly activity = new Map<string, UserActivity>();
  /** When each cached user's activity was last set or asked for (ms). */
  private readonly userSeenAt = new Map<string, number>();
  /** Items with counts but no catalog row, since when (ms). */
  private readonly outOfCatalogSince = new Map<string, number>();
  private readonly usersByClickPartition = new Map<number, Set<string>>();
  private readonly itemRows = new Map<string, ItemInfo>();
  private readonly itemsByCdcPartition = new Map<number, Set<string>>();
  private readonly userRows = new Map<string, UserRowData>();
  private readonly usersByCdcPartition = new Map<number, Set<string>>();
  private poolCache: ItemInfo[] | null = null;
  private readonly listeners = new Set<StateChangeListener>();
  private pending: { items: Set<string>; removed: Set<string>; poolChanged: boolean } = {
    items: new Set(),
    removed: new Set(),
    poolChanged: false,
  };

  /**
   * `referenceMs` is accepted for callers that still pass it; decayed counts are re-based per item (to its newest
   * partition), so no reference time can overflow or underflow however long the tables live.
   */
  constructor(options: { halfLifeSeconds: number; referenceMs?: number }) {
    this.halfLifeMs = options.halfLifeSeconds * 1000;
  }

  // ---- StateView ----------------------------------------------------------------------------------------

  items(): readonly ItemInfo[] {
    if (this.poolCache === null) {
      const pool: ItemInfo[] = [];
      for (const row of this.itemRows.values()) if (row.available) pool.push(row);
      this.poolCache = pool;
    }
    return this.poolCache;
  }

  arm(itemId: string, segment: string): ArmStats {
    return this.armSums.get(segment)?.get(itemId) ?? ZERO_ARM;
  }

  itemFeatures(itemId: string): ItemFeatures | undefined {
    return this.itemSums.get(itemId);
  }

  user(userId: string): UserFeatures | undefined {
    const row = this.userRows.get(userId);
    const act = this.activity.get(userId);
    if (row === undefined && act === undefined) return undefined;
    return {
      userId,
      segment: row?.segment ?? null,
      country: row?.country ?? null,
      subscribed: row?.subscribed ?? null,
      impressions: act?.imp ?? 0,
      clicks: act?.clk ?? 0,
      conversions: act?.conv ?? 0,
      watchMs: act?.watchMs ?? 0,
      lastActive: act?.lastActive ?? 0,
      recent: act?.recent ?? [],
    };
  }

  // ---- extras -------------------------------------------------------------------------------------------

  /** Known user ids (from `cdc.users` and activity), at most `limit`. */
  userIds(limit: number): string[] {
    const out: string[] = [];
    for (const id of this.userRows.keys()) {
      if (out.length >= limit) return out;
      out.push(id);
    }
    for (const id of this.activity.keys()) {
      if (out.length >= limit) break;
      if (!this.userRows.has(id)) out.push(id);
    }
    return out;
  }

  /** Whether the user's activity is cached (from a snapshot, a load or the feed). */
  hasActivity(userId: string): boolean {
    return this.activity.has(userId);
  }

  /** One partition's counters of an item, as last applied. */
  itemCounters(partition: number, itemId: string): ItemCounters | undefined {
    return this.itemByPartition.get(partition)?.get(itemId);
  }

  activityOf(userId: string): UserActivity | undefined {
    return this.activity.get(userId);
  }

  /** Users of one clickstream partition whose activity is cached. */
  usersOfPartition(partition: number): readonly string[] {
    return [...(this.usersByClickPartition.get(partition) ?? [])];
  }

  onChange(listener: StateChangeListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Delivers what changed since the last flush to the listeners (the reader calls it after each round). */
  flushChanges(): void {
    const change = this.pending;
    if (change.items.size === 0 && change.removed.size === 0 && !change.poolChanged) return;
    this.pending = { items: new Set(), removed: new Set(), poolChanged: false };
    for (const listener of this.listeners) listener(change);
  }

  // ---- clickstream partitions ---------------------------------------------------------------------------

  /** Sets one partition's counts of the arm `key` = `itemId|segment`. */
  setArm(partition: number, key: string, imp: number, clk: number): void {
    let byKey = this.posteriorByPartition.get(partition);
    if (byKey === undefined) {
      byKey = new Map();
      this.posteriorByPartition.set(partition, byKey);
    }
    const old = byKey.get(key);
    const dImp = imp - (old?.[0] ?? 0);
    const dClk = clk - (old?.[1] ?? 0);
    if (imp === 0 && clk === 0) byKey.delete(key);
    else if (old !== undefined) {
      old[0] = imp;
      old[1] = clk;
    } else byKey.set(key, [imp, clk]);
    if (dImp === 0 && dClk === 0) return;
    const bar = key.indexOf('|');
    const itemId = bar < 0 ? key : key.slice(0, bar);
    const segment = bar < 0 ? '*' : key.slice(bar + 1);
    let bySegment = this.armSums.get(segment);
    if (bySegment === undefined) {
      bySegment = new Map();
      this.armSums.set(segment, bySegment);
    }
    const sum = bySegment.get(itemId);
    if (sum === undefined) bySegment.set(itemId, { impressions: dImp, clicks: dClk });
    else {
      sum.impressions += dImp;
      sum.clicks += dClk;
    }
    this.pending.items.add(itemId);
  }

  /** Sets one partition's counters of an item, then re-sums the item over partitions. */
  setItemCounters(partition: number, itemId: string, counters: ItemCounters | null): void {
    let byItem = this.itemByPartition.get(partition);
    if (byItem === undefined) {
      byItem = new Map();
      this.itemByPartition.set(partition, byItem);
    }
    if (counters === null) byItem.delete(itemId);
    else byItem.set(itemId, counters);
    this.resumItem(itemId);
    this.pending.items.add(itemId);
  }

  /** Replaces everything one clickstream partition holds (a fresh snapshot). */
  replaceClickPartition(
    partition: number,
    arms: Map<string, [number, number]>,
    items: Map<string, ItemCounters>,
    users: Map<string, UserActivity | null>,
  ): void {
    const oldArms = this.posteriorByPartition.get(partition);
    if (oldArms !== undefined) {
      for (const key of [...oldArms.keys()]) if (!arms.has(key)) this.setArm(partition, key, 0, 0);
    }
    for (const [key, [imp, clk]] of arms) this.setArm(partition, key, imp, clk);
    const oldItems = this.itemByPartition.get(partition);
    if (oldItems !== undefined) {
      for (const itemId of [...oldItems.keys()]) {
        if (!items.has(itemId)) this.setItemCounters(partition, itemId, null);
      }
    }
    for (const [itemId, counters] of items) this.setItemCounters(partition, itemId, counters);
    for (const [userId, act] of users) this.setUserActivity(partition, userId, act);
  }

  setUserActivity(partition: number, userId: string, act: UserActivity | null): void {
    let ids = this.usersByClickPartition.get(partition);
    if (ids === undefined) {
      ids = new Set();
      this.usersByClickPartition.set(partition, ids);
    }
    if (act === null) {
      this.activity.delete(userId);
      this.userSeenAt.delete(userId);
      ids.delete(userId);
    } else {
      this.activity.set(userId, act);
      this.userSeenAt.set(userId, Date.now());
      ids.add(userId);
    }
  }

  /** The user was seen (a hello): its cached activity stays at least another idle period. */
  touchUser(userId: string, now = Date.now()): void {
    if (this.activity.has(userId)) this.userSeenAt.set(userId, now);
  }

  /**
   * Removes the activity of users not seen for `idleMs`, and the counts of items that have had no catalog row
   * (deleted) for `idleMs`. Returns how many of each left.
   */
  evictIdle(idleMs: number, now = Date.now()): Eviction {
    const evicted: Eviction = { users: 0, items: 0 };
    for (const [userId, seenAt] of this.userSeenAt) {
      if (now - seenAt < idleMs) continue;
      this.userSeenAt.delete(userId);
      this.activity.delete(userId);
      for (const ids of this.usersByClickPartition.values()) ids.delete(userId);
      evicted.users++;
    }
    const counted = new Set<string>(this.itemSums.keys());
    for (const bySegment of this.armSums.values()) for (const itemId of bySegment.keys()) counted.add(itemId);
    for (const itemId of counted) {
      if (this.itemRows.has(itemId)) continue;
      const since = this.outOfCatalogSince.get(itemId);
      if (since === undefined) this.outOfCatalogSince.set(itemId, now);
      else if (now - since >= idleMs) {
        this.dropItemCounts(itemId);
        evicted.items++;
      }
    }
    for (const itemId of this.outOfCatalogSince.keys()) {
      if (this.itemRows.has(itemId) || !counted.has(itemId)) this.outOfCatalogSince.delete(itemId);
    }
    return evicted;
  }

  /** How many users' activity and items' counts the tables hold. */
  sizes(): { users: number; countedItems: number; catalogItems: number } {
    return { users: this.activity.size, countedItems: this.itemSums.size, catalogItems: this.itemRows.size };
  }

  private dropItemCounts(itemId: string): void {
    this.outOfCatalogSince.delete(itemId);
    this.itemSums.delete(itemId);
    for (const byItem of this.itemByPartition.values()) byItem.delete(itemId);
    for (const [segment, bySegment] of this.armSums) {
      if (!bySegment.delete(itemId)) continue;
      const key = `${itemId}|${segment}`;
      for (const byKey of this.posteriorByPartition.values()) byKey.delete(key);
    }
  }

  // ---- CDC partitions -----------------------------------------------------------------------------------

  /** Sets (or, with null: deleted, removes with its counts) one row of the item pool. */
  setItemRow(partition: number, itemId: string, row: ItemInfo | null): void {
    let ids = this.itemsByCdcPartition.get(partition);
    if (ids === undefined) {
      ids = new Set();
      this.itemsByCdcPartition.set(partition, ids);
    }
    const old = this.itemRows.get(itemId);
    if (row === null) {
      ids.delete(itemId);
      this.dropItemCounts(itemId);
      if (old === undefined) return;
      this.itemRows.delete(itemId);
    } else {
      ids.add(itemId);
      this.itemRows.set(itemId, row);
    }
    if (old?.available && !row?.available) this.pending.removed.add(itemId);
    this.pending.poolChanged = true;
    this.poolCache = null;
  }

  replaceItemPartition(partition: number, rows: Map<string, ItemInfo>): void {
    const old = this.itemsByCdcPartition.get(partition);
    if (old !== undefined) {
      for (const itemId of [...old]) if (!rows.has(itemId)) this.setItemRow(partition, itemId, null);
    }
    for (const [itemId, row] of rows) this.setItemRow(partition, itemId, row);
  }

  setUserRow(partition: number, userId: string, row: UserRowData | null): void {
    let ids = this.usersByCdcPartition.get(partition);
    if (ids === undefined) {
      ids = new Set();
      this.usersByCdcPartition.set(partition, ids);
    }
    if (row === null) {
      ids.delete(userId);
      this.userRows.delete(userId);
    } else {
      ids.add(userId);
      this.userRows.set(userId, row);
    }
  }

  replaceUserPartition(partition: number, rows: Map<string, UserRowData>): void {
    const old = this.usersByCdcPartition.get(partition);
    if (old !== undefined) {
      for (const userId of [...old]) if (!rows.has(userId)) this.setUserRow(partition, userId, null);
    }
    for (const [userId, row] of rows) this.setUserRow(partition, userId, row);
  }

  private resumItem(itemId: string): void {
    let imp = 0;
    let clk = 0;
    let conv = 0;
    let convValue = 0;
    let watchMs = 0;
    let seen = 0;
    let newestDts = Number.NEGATIVE_INFINITY;
    for (const byItem of this.itemByPartition.values()) {
      const c = byItem.get(itemId);
      if (c === undefined) continue;
      imp += c.imp;
      clk += c.clk;
      conv += c.conv;
      convValue += c.convValue;
      watchMs += c.watchMs;
      if (c.seen > seen) seen = c.seen;
      if (c.dts > newestDts) newestDts = c.dts;
    }
    if (newestDts === Number.NEGATIVE_INFINITY) {
      this.itemSums.delete(itemId);
      return;
    }
    // v · 2^(-(t - dts)/h) = v · 2^((dts - ref)/h) · 2^(-(t - ref)/h): the last factor is common to all partitions,
    // so it cancels in the CTR. With ref = the item's newest dts every exponent is ≤ 0: nothing overflows after any
    // number of half-lives, and a partition decayed long ago weighs (correctly) next to nothing.
    let dimpRef = 0;
    let dclkRef = 0;
    for (const byItem of this.itemByPartition.values()) {
      const c = byItem.get(itemId);
      if (c === undefined) continue;
      const scale = this.halfLifeMs > 0 ? 2 ** ((c.dts - newestDts) / this.halfLifeMs) : 1;
      dimpRef += c.dimp * scale;
      dclkRef += c.dclk * scale;
    }
    // Updated in place: every reader (feature assembly) reads an item's sums synchronously, and an entry moves
    // thousands of items a second in a busy gateway, so no object per change.
    const decayedCtr = dimpRef > 0 ? dclkRef / dimpRef : 0;
    const sums = this.itemSums.get(itemId);
    if (sums === undefined) {
      this.itemSums.set(itemId, {
        impressions: imp,
        clicks: clk,
        conversions: conv,
        conversionValue: convValue,
        watchMs,
        lastSeen: seen,
        decayedCtr,
      });
      return;
    }
    sums.impressions = imp;
    sums.clicks = clk;
    sums.conversions = conv;
    sums.conversionValue = convValue;
    sums.watchMs = watchMs;
    sums.lastSeen = seen;
    sums.decayedCtr = decayedCtr;
  }
}
