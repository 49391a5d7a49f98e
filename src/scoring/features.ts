/**
 * Assembles the float32 feature matrix [candidates × columns] of one request, in the order the feature spec
 * says. The spec is compiled once into flat op tables; user and context columns are computed once per request
 * into a row template, item, affinity and cross columns per candidate. The matrix buffer is reused between requests:
 * its content is valid until the next `assemble` call (the scorer copies it before returning).
 */
import type { ItemFeatures, ItemInfo, RequestContext, StateView, UserFeatures } from '../domain/decision.ts';
import {
  type CategoricalSource,
  columnsOf,
  crossedGroups,
  type FeatureDefinition,
  type FeatureSpec,
} from './feature-spec.ts';

const DAY_MS = 86_400_000;

enum Op {
  Log1p = 1,
  Value = 2,
  Ctr = 3,
  CtrLogit = 4,
  Age = 5,
  OneHot = 6,
  RecentCategory = 7,
  RecentItem = 8,
  Cross = 9,
}

enum Field {
  Impressions = 0,
  Clicks = 1,
  Conversions = 2,
  ConversionValue = 3,
  WatchMs = 4,
  DecayedCtr = 5,
}

const FIELD_OF: Record<string, Field> = {
  impressions: Field.Impressions,
  clicks: Field.Clicks,
  conversions: Field.Conversions,
  conversionValue: Field.ConversionValue,
  watchMs: Field.WatchMs,
  decayedCtr: Field.DecayedCtr,
};

function itemField(features: ItemFeatures | undefined, field: number): number {
  if (features === undefined) return 0;
  switch (field) {
    case Field.Impressions:
      return features.impressions;
    case Field.Clicks:
      return features.clicks;
    case Field.Conversions:
      return features.conversions;
    case Field.ConversionValue:
      return features.conversionValue;
    case Field.WatchMs:
      return features.watchMs;
    default:
      return features.decayedCtr;
  }
}

function userField(user: UserFeatures | undefined, field: number): number {
  if (user === undefined) return 0;
  switch (field) {
    case Field.Impressions:
      return user.impressions;
    case Field.Clicks:
      return user.clicks;
    case Field.Conversions:
      return user.conversions;
    case Field.WatchMs:
      return user.watchMs;
    default:
      return 0;
  }
}

function smoothedCtr(
  clicks: number,
  impressions: number,
  priorClicks: number,
  priorImpressions: number,
): number {
  const c = Math.max(clicks, 0);
  const n = Math.max(impressions, c);
  return (c + priorClicks) / (n + priorImpressions);
}

function logit(p: number): number {
  const q = p < 1e-6 ? 1e-6 : Math.min(p, 1 - 1e-6);
  return Math.log(q / (1 - q));
}

function categorical(
  source: CategoricalSource,
  user: UserFeatures | undefined,
  context: RequestContext,
): string | null {
  switch (source) {
    case 'user.segment':
      return user?.segment ?? null;
    case 'user.country':
      return user?.country ?? null;
    case 'context.device':
      return context.device;
    case 'context.country':
      return context.country;
    case 'context.page':
      return context.page;
    default:
      return null;
  }
}

interface OneHotGroup {
  readonly source: CategoricalSource;
  /** value → column index. */
  readonly columns: Map<string, number>;
  /** Column of values not listed, or -1. */
  readonly other: number;
  /** The group's first column and its number of columns. */
  readonly first: number;
  readonly size: number;
  /** Index among the request-level groups (its hit is kept per request), or -1 for an item group. */
  readonly requestSlot: number;
}

/** The column of `value` in `group` (its `other` column when not listed), or -1 when it has none. */
function columnOf(group: OneHotGroup, value: string | null): number {
  const hit = value === null ? undefined : group.columns.get(value);
  return hit ?? group.other;
}

/** The two groups of a cross; its columns run over (a's column, b's column), b's fastest. */
interface CrossOp {
  readonly a: OneHotGroup;
  readonly b: OneHotGroup;
}

/** Builds feature matrices for one feature spec. Not shared between concurrent assemblers' callers. */
export class FeatureAssembler {
  readonly spec: FeatureSpec;
  readonly width: number;
  private buffer: Float32Array;
  private readonly template: Float32Array;
  private readonly requestDefs: { def: FeatureDefinition; column: number; group: OneHotGroup | null }[] = [];
  // Per-candidate op tables (parallel arrays).
  private readonly ops: Uint8Array;
  private readonly opColumn: Int32Array;
  private readonly opField: Int32Array;
  private readonly opA: Float64Array;
  private readonly opB: Float64Array;
  private readonly opGroup: (OneHotGroup | null)[];
  private readonly opCross: (CrossOp | null)[];
  private readonly opCount: number;
  /** Per request: the column each request-level one-hot group set (-1: none), read by the cross columns. */
  private readonly requestHits: Int32Array;
  private readonly usesRecent: boolean;
  // Per-request scratch, reused.
  private readonly recentCategoryCount = new Map<string, number>();
  private readonly recentItems = new Set<string>();
  private categoryOf = new Map<string, string>();
  private indexedPool: readonly ItemInfo[] | null = null;
  private indexedLength = 0;

  constructor(spec: FeatureSpec, initialRows = 256) {
    this.spec = spec;
    this.width = spec.width;
    this.buffer = new Float32Array(initialRows * spec.width);
    this.template = new Float32Array(spec.width);
    const ops: number[] = [];
    const columns: number[] = [];
    const fields: number[] = [];
    const as: number[] = [];
    const bs: number[] = [];
    const groups: (OneHotGroup | null)[] = [];
    const crosses: (CrossOp | null)[] = [];
    const groupOf = new Map<string, OneHotGroup>();
    let requestGroups = 0;
    let usesRecent = false;
    let column = 0;
    const push = (
      op: Op,
      field: number,
      a: number,
      b: number,
      group: OneHotGroup | null,
      cross: CrossOp | null = null,
    ): void => {
      ops.push(op);
      columns.push(column);
      fields.push(field);
      as.push(a);
      bs.push(b);
      groups.push(group);
      crosses.push(cross);
    };
    for (const def of spec.features) {
      const width = columnsOf(def, spec.features).length;
      if (def.kind === 'cross') {
        const [a, b] = crossedGroups(def, spec.features);
        push(Op.Cross, 0, 0, 0, null, { a: groupOf.get(a.name)!, b: groupOf.get(b.name)! });
        column += width;
        continue;
      }
      const isItem = def.source.startsWith('item') || def.source.startsWith('recent');
      if (!isItem) {
        let group: OneHotGroup | null = null;
        if (def.kind === 'onehot') {
          group = oneHotGroup(def.source, def.values, def.other, column, requestGroups++);
          groupOf.set(def.name, group);
        }
        this.requestDefs.push({ def, column, group });
      } else {
        switch (def.kind) {
          case 'log1p':
            push(Op.Log1p, FIELD_OF[def.source.slice(5)], def.scale, 0, null);
            break;
          case 'value':
            push(Op.Value, FIELD_OF[def.source.slice(5)], 0, 0, null);
            break;
          case 'ctr':
            push(Op.Ctr, 0, def.priorClicks, def.priorImpressions, null);
            break;
          case 'ctr_logit':
            push(Op.CtrLogit, 0, def.priorClicks, def.priorImpressions, null);
            break;
          case 'age_days_log1p':
            push(Op.Age, 0, 0, 0, null);
            break;
          case 'onehot': {
            const group = oneHotGroup(def.source, def.values, def.other, column, -1);
            groupOf.set(def.name, group);
            push(Op.OneHot, 0, 0, 0, group);
            break;
          }
          case 'affinity':
            usesRecent = true;
            push(def.source === 'recent.category' ? Op.RecentCategory : Op.RecentItem, 0, 0, 0, null);
            break;
          default:
            break;
        }
      }
      column += width;
    }
    this.ops = Uint8Array.from(ops);
    this.opColumn = Int32Array.from(columns);
    this.opField = Int32Array.from(fields);
    this.opA = Float64Array.from(as);
    this.opB = Float64Array.from(bs);
    this.opGroup = groups;
    this.opCross = crosses;
    this.opCount = ops.length;
    this.requestHits = new Int32Array(requestGroups);
    this.usesRecent = usesRecent;
  }

  /**
   * Fills rows 0..count-1 of the reused matrix for `candidates[0..count-1]` and returns the buffer (its first
   * `count × width` floats are the matrix).
   */
  assemble(
    view: StateView,
    candidates: readonly ItemInfo[],
    count: number,
    user: UserFeatures | undefined,
    context: RequestContext,
    now: number,
  ): Float32Array {
    const width = this.width;
    if (this.buffer.length < count * width)
      this.buffer = new Float32Array(Math.max(count, 2 * (this.buffer.length / width)) * width);
    const m = this.buffer;
    this.fillTemplate(user, context);
    let recentCount = 0;
    if (this.usesRecent) recentCount = this.indexRecent(view, user);
    const template = this.template;
    const ops = this.ops;
    const opColumn = this.opColumn;
    const opField = this.opField;
    const opA = this.opA;
    const opB = this.opB;
    const opCount = this.opCount;
    for (let r = 0; r < count; r++) {
      const item = candidates[r];
      const base = r * width;
      m.set(template, base);
      const f = view.itemFeatures(item.itemId);
      for (let o = 0; o < opCount; o++) {
        const at = base + opColumn[o];
        switch (ops[o]) {
          case Op.Log1p:
            m[at] = Math.log1p(Math.max(0, itemField(f, opField[o])) / opA[o]);
            break;
          case Op.Value:
            m[at] = itemField(f, opField[o]);
            break;
          case Op.Ctr:
            m[at] = f === undefined ? opA[o] / opB[o] : smoothedCtr(f.clicks, f.impressions, opA[o], opB[o]);
            break;
          case Op.CtrLogit:
            m[at] = logit(
              f === undefined ? opA[o] / opB[o] : smoothedCtr(f.clicks, f.impressions, opA[o], opB[o]),
            );
            break;
          case Op.Age: {
            const days = (now - item.createdAt) / DAY_MS;
            m[at] = Math.log1p(Math.max(days, 0));
            break;
          }
          case Op.OneHot: {
            const column = columnOf(this.opGroup[o]!, item.category);
            if (column >= 0) m[base + column] = 1;
            break;
          }
          case Op.RecentCategory:
            m[at] = recentCount === 0 ? 0 : (this.recentCategoryCount.get(item.category) ?? 0) / recentCount;
            break;
          case Op.RecentItem:
            m[at] = this.recentItems.has(item.itemId) ? 1 : 0;
            break;
          case Op.Cross: {
            const { a, b } = this.opCross[o]!;
            const ca = a.requestSlot >= 0 ? this.requestHits[a.requestSlot] : columnOf(a, item.category);
            const cb = b.requestSlot >= 0 ? this.requestHits[b.requestSlot] : columnOf(b, item.category);
            if (ca >= 0 && cb >= 0) m[at + (ca - a.first) * b.size + (cb - b.first)] = 1;
            break;
          }
          default:
            break;
        }
      }
    }
    return m;
  }

  /** User and context columns, the same for every candidate of the request; item columns are zero. */
  private fillTemplate(user: UserFeatures | undefined, context: RequestContext): void {
    const t = this.template;
    t.fill(0);
    for (const { def, column, group } of this.requestDefs) {
      switch (def.kind) {
        case 'log1p':
          t[column] = Math.log1p(Math.max(0, userField(user, FIELD_OF[def.source.slice(5)])) / def.scale);
          break;
        case 'value':
          t[column] = userField(user, FIELD_OF[def.source.slice(5)]);
          break;
        case 'ctr':
        case 'ctr_logit': {
          const p = smoothedCtr(
            user?.clicks ?? 0,
            user?.impressions ?? 0,
            def.priorClicks,
            def.priorImpressions,
          );
          t[column] = def.kind === 'ctr' ? p : logit(p);
          break;
        }
        case 'flag':
          t[column] =
            def.source === 'user.known' ? (user === undefined ? 0 : 1) : user?.subscribed === true ? 1 : 0;
          break;
        case 'onehot': {
          const hit = columnOf(group!, categorical(def.source, user, context));
          if (hit >= 0) t[hit] = 1;
          this.requestHits[group!.requestSlot] = hit;
          break;
        }
        default:
          break;
      }
    }
  }

  /** Counts the categories of the user's recent clicks; returns how many of them are in the pool. */
  private indexRecent(view: StateView, user: UserFeatures | undefined): number {
    this.recentCategoryCount.clear();
    this.recentItems.clear();
    if (user === undefined || user.recent.length === 0) return 0;
    const pool = view.items();
    if (pool !== this.indexedPool || pool.length !== this.indexedLength) {
      this.categoryOf = new Map();
      for (const item of pool) this.categoryOf.set(item.itemId, item.category);
      this.indexedPool = pool;
      this.indexedLength = pool.length;
    }
    let known = 0;
    for (const itemId of user.recent) {
      this.recentItems.add(itemId);
      const category = this.categoryOf.get(itemId);
      if (category === undefined) continue;
      known++;
      this.recentCategoryCount.set(category, (this.recentCategoryCount.get(category) ?? 0) + 1);
    }
    return known;
  }
}

function oneHotGroup(
  source: CategoricalSource,
  values: readonly string[],
  other: boolean,
  first: number,
  requestSlot: number,
): OneHotGroup {
  const columns = new Map<string, number>();
  values.forEach((value, i) => {
    columns.set(value, first + i);
  });
  const size = values.length + (other ? 1 : 0);
  return { source, columns, other: other ? first + values.length : -1, first, size, requestSlot };
}
