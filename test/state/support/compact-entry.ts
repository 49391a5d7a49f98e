import {
  FEED_SEPARATOR,
  ITEM_COUNTER_FIELDS,
  USER_ACTIVITY_FIELDS,
} from '../../../src/state/layout/index.ts';

/**
 * A compact feed entry (src/state/layout/feed-entry.ts) as the JSON entry `d` would say it: read here apart from
 * the live reader's own parser, so a test or a benchmark can check that one against it.
 */
export function decodeCompact(text: string) {
  const t = text.length === 0 ? [] : text.split(FEED_SEPARATOR);
  const d = {
    posterior: {} as Record<string, [number, number]>,
    item: {} as Record<string, Record<string, number>>,
    user: {} as Record<string, Record<string, unknown>>,
  };
  for (let i = 0; i < t.length; ) {
    if (t[i] === 'a') {
      d.posterior[t[i + 1]] = [Number(t[i + 2]), Number(t[i + 3])];
      i += 4;
    } else if (t[i] === 'i') {
      const fields: Record<string, number> = {};
      ITEM_COUNTER_FIELDS.forEach((f, k) => {
        if (t[i + 2 + k] !== '') fields[f] = Number(t[i + 2 + k]);
      });
      d.item[t[i + 1]] = fields;
      i += 11;
    } else {
      const fields: Record<string, unknown> = {};
      USER_ACTIVITY_FIELDS.forEach((f, k) => {
        if (t[i + 2 + k] !== '') fields[f] = Number(t[i + 2 + k]);
      });
      const k = t[i + 8] === '' ? 0 : Number(t[i + 8]);
      if (t[i + 8] !== '') fields.recent = t.slice(i + 9, i + 9 + k);
      d.user[t[i + 1]] = fields;
      i += 9 + k;
    }
  }
  return d;
}
