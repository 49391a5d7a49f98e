/**
 * Checks decoded records against what the state layout needs, beyond what Avro types guarantee: required
 * fields present and non-empty, values in range, identifiers as the gateway takes them, change envelopes that
 * name a row. A refused record is dead-lettered with the returned code and message; nothing here throws.
 */
import {
  describeRange,
  inRange,
  isValidId,
  LIMITS,
  MAX_ID_LENGTH,
  MAX_ROW_CHARS,
  MAX_SLOTS,
  type NumericRange,
} from '../../src/domain/limits.ts';
import type { ErrorCode } from '../../src/errors/index.ts';
import type { SchemaName } from '../schemas/index.ts';

export interface Rejection {
  code: ErrorCode;
  message: string;
}

/** Which kind of records a topic carries. */
export type TopicRole = 'clickstream' | 'items' | 'users';

const ROLE_SCHEMAS: Record<TopicRole, ReadonlySet<SchemaName>> = {
  clickstream: new Set(['Carousel', 'Impression', 'Click', 'Conversion', 'Watch']),
  items: new Set(['ItemChange']),
  users: new Set(['UserChange']),
};

/** The contracts a topic of `role` carries. */
export function schemasOfRole(role: TopicRole): ReadonlySet<SchemaName> {
  return ROLE_SCHEMAS[role];
}

type Value = Record<string, unknown>;

function reject(code: ErrorCode, message: string): Rejection {
  return { code, message };
}

/** An identifier, as the gateway takes it (src/domain/limits.ts): 1-128 printable characters without `|`. */
function checkId(v: Value, field: string, where: string): Rejection | undefined {
  const id = v[field];
  if (typeof id !== 'string' || id.length === 0) {
    return reject('CROUPIER_ERR_STREAM_MISSING_FIELD', `${where}.${field} is required (a non-empty string)`);
  }
  if (!isValidId(id)) {
    const shown =
      id.length > 40 ? `${JSON.stringify(id.slice(0, 40))}… (${id.length} characters)` : JSON.stringify(id);
    return reject(
      'CROUPIER_ERR_STREAM_BAD_ID',
      `${where}.${field} ${shown} is not an id: 1-${MAX_ID_LENGTH} printable characters without "|" or whitespace`,
    );
  }
  return undefined;
}

/** A required finite number inside one of the documented ranges (src/domain/limits.ts). */
function checkNumber(v: Value, field: string, where: string, range: NumericRange): Rejection | undefined {
  const n = v[field];
  if (n === undefined || n === null) {
    return reject('CROUPIER_ERR_STREAM_MISSING_FIELD', `${where}.${field} is required`);
  }
  if (!inRange(n, range)) {
    return reject(
      'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      `${where}.${field} = ${String(n)} is not ${describeRange(range)}`,
    );
  }
  return undefined;
}

/** A number that may be null; when present, inside `range`. */
function checkOptionalNumber(
  v: Value,
  field: string,
  where: string,
  range: NumericRange,
): Rejection | undefined {
  if (v[field] === null || v[field] === undefined) return undefined;
  return checkNumber(v, field, where, range);
}

/** A carousel: its ids and time, then each shown item as an impression's fields are checked. */
function checkCarousel(v: Value): Rejection | undefined {
  const where = 'Carousel';
  for (const id of ['eventId', 'requestId', 'userId']) {
    const r = checkId(v, id, where);
    if (r) return r;
  }
  const ts = checkNumber(v, 'timestamp', where, LIMITS.timestampMs);
  if (ts) return ts;
  const items = v.items;
  if (!Array.isArray(items)) {
    return reject(
      'CROUPIER_ERR_STREAM_MISSING_FIELD',
      `${where}.items is required (an array of shown items)`,
    );
  }
  if (items.length > MAX_SLOTS) {
    return reject(
      'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      `${where}.items holds ${items.length} items; a carousel shows at most ${MAX_SLOTS}`,
    );
  }
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Value;
    const at = `${where}.items[${i}]`;
    const r =
      checkId(item, 'itemId', at) ??
      checkNumber(item, 'slot', at, LIMITS.slot) ??
      checkNumber(item, 'propensity', at, LIMITS.propensity) ??
      checkOptionalNumber(item, 'score', at, LIMITS.score) ??
      checkOptionalNumber(item, 'shadowSlot', at, LIMITS.slot) ??
      checkOptionalNumber(item, 'shadowPropensity', at, LIMITS.probability);
    if (r) return r;
  }
  return undefined;
}

function checkEvent(name: SchemaName, v: Value): Rejection | undefined {
  if (name === 'Carousel') return checkCarousel(v);
  const where = name;
  for (const id of ['eventId', 'requestId', 'userId', 'itemId']) {
    const r = checkId(v, id, where);
    if (r) return r;
  }
  const ts = checkNumber(v, 'timestamp', where, LIMITS.timestampMs);
  if (ts) return ts;
  switch (name) {
    case 'Impression':
      return (
        checkNumber(v, 'slot', where, LIMITS.slot) ??
        checkNumber(v, 'propensity', where, LIMITS.propensity) ??
        checkOptionalNumber(v, 'score', where, LIMITS.score) ??
        checkOptionalNumber(v, 'shadowSlot', where, LIMITS.slot) ??
        checkOptionalNumber(v, 'shadowPropensity', where, LIMITS.probability)
      );
    case 'Click':
      return checkOptionalNumber(v, 'slot', where, LIMITS.slot);
    case 'Conversion':
      return checkNumber(v, 'value', where, LIMITS.conversionValue);
    case 'Watch':
      return checkNumber(v, 'watchTimeMs', where, LIMITS.watchTimeMs);
    default:
      return undefined;
  }
}

function checkChange(name: SchemaName, v: Value, key: 'itemId' | 'userId'): Rejection | undefined {
  const before = v.before as Value | null | undefined;
  const after = v.after as Value | null | undefined;
  const op = v.op;
  if (op === 't') {
    // A truncate names no row: every row of the table is gone (see streams/fold/cdc.ts).
    if (before || after) {
      return reject(
        'CROUPIER_ERR_STREAM_CDC_INVALID',
        `${name} truncate (op t) carries a row; before and after must be null`,
      );
    }
    return undefined;
  }
  if (!before && !after) {
    return reject('CROUPIER_ERR_STREAM_CDC_EMPTY', `${name} (op ${String(op)}) has neither before nor after`);
  }
  if (op !== 'c' && op !== 'u' && op !== 'd' && op !== 'r') {
    return reject(
      'CROUPIER_ERR_STREAM_CDC_INVALID',
      `${name}.op = ${JSON.stringify(op)} is not one of c, u, d, r, t`,
    );
  }
  if (op === 'd') {
    if (!before) return reject('CROUPIER_ERR_STREAM_CDC_INVALID', `${name} delete has no before row`);
    return checkId(before, key, `${name}.before`);
  }
  if (!after) return reject('CROUPIER_ERR_STREAM_CDC_INVALID', `${name} (op ${op}) has no after row`);
  const chars = rowChars(after);
  if (chars > MAX_ROW_CHARS) {
    return reject(
      'CROUPIER_ERR_STREAM_OUT_OF_RANGE',
      `${name}.after holds ${chars > 10 * MAX_ROW_CHARS ? `more than ${10 * MAX_ROW_CHARS}` : chars} characters of text; a row holds at most ${MAX_ROW_CHARS} in all its strings together (title, category, tags, …)`,
    );
  }
  return checkId(after, key, `${name}.after`);
}

/** The characters of a row's strings (its fields and the strings of its arrays), counted up to ten times the limit. */
function rowChars(row: Value): number {
  let n = 0;
  const add = (x: unknown) => {
    if (typeof x === 'string') n += x.length;
  };
  for (const value of Object.values(row)) {
    if (Array.isArray(value)) {
      for (const x of value) {
        add(x);
        if (n > 10 * MAX_ROW_CHARS) return n;
      }
    } else add(value);
  }
  return n;
}

/** Why a decoded record cannot be applied on a topic of `role`, or undefined when it can. */
export function validateRecord(
  role: TopicRole,
  schemaName: SchemaName,
  value: unknown,
): Rejection | undefined {
  if (!ROLE_SCHEMAS[role].has(schemaName)) {
    return reject(
      'CROUPIER_ERR_STREAM_WRONG_SCHEMA',
      `a ${schemaName} record does not belong on a ${role} topic`,
    );
  }
  if (value === null || typeof value !== 'object') {
    return reject('CROUPIER_ERR_STREAM_MISSING_FIELD', `${schemaName} record has no fields`);
  }
  const v = value as Value;
  if (role === 'items') return checkChange(schemaName, v, 'itemId');
  if (role === 'users') return checkChange(schemaName, v, 'userId');
  return checkEvent(schemaName, v);
}
