/**
 * Fuzzed WebSocket frames built from valid client messages by mutation: prototype names as types and ids,
 * non-finite and out-of-range numbers, truncation, wrong shapes. Used by the fuzz test
 * (test/gateway/hostile-input.test.ts) and the fuzz pass against a running croupier (fuzz-main.ts).
 */

/** Valid messages of every type, the fuzz's starting points. */
export const TEMPLATES: Record<string, unknown>[] = [
  { type: 'hello', userId: 'fuzz-user', context: { device: 'mobile', country: 'DE', page: 'home' } },
  { type: 'carousel', requestId: 'f1', slots: 4, context: { page: 'home' }, filters: { category: 'c0' } },
  { type: 'feedback', requestId: 'f1', itemId: 'item-0', kind: 'click' },
  { type: 'feedback', requestId: 'f1', itemId: 'item-0', kind: 'conversion', value: 12.5 },
  { type: 'feedback', requestId: 'f1', itemId: 'item-0', kind: 'watch', watchTimeMs: 3000 },
  { type: 'subscribe', requestId: 's1', slots: 3 },
  { type: 'unsubscribe', requestId: 's1' },
  { type: 'ping' },
];
const NASTY: unknown[] = [
  'toString',
  'constructor',
  '__proto__',
  'hasOwnProperty',
  'prototype',
  '',
  'a|b',
  '\u0000',
  '\ud800',
  'x'.repeat(300),
  0,
  -0,
  -1,
  1.5,
  1e308,
  -1e308,
  2 ** 53 + 1,
  null,
  true,
  false,
  [],
  {},
  [1, 2],
  { __proto__: { polluted: true } },
  { constructor: { prototype: {} } },
];
const RAW_NUMBERS = ['1e400', '-1e400', 'NaN', 'Infinity', '0x10', '1e-400', '-0'];

/**
 * One fuzzed frame: a valid message (`templates`) with one to three of its fields deleted, set to a hostile
 * value or to a raw non-finite number, then sometimes truncated, wrapped in an array or given a `__proto__` key.
 */
export function mutateFrame(
  random: () => number,
  templates: readonly Record<string, unknown>[] = TEMPLATES,
): string {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)];
  const message: Record<string, unknown> = structuredClone(pick(templates));
  const keys = [...Object.keys(message), 'type', 'requestId', 'itemId', 'value', 'slots', '__proto__'];
  const edits = 1 + Math.floor(random() * 3);
  let rawNumber: [string, string] | null = null;
  for (let e = 0; e < edits; e++) {
    const key = pick(keys);
    const r = random();
    if (r < 0.15) delete message[key];
    else if (r < 0.3) rawNumber = [key, pick(RAW_NUMBERS)];
    else if (r < 0.4) message.type = pick(NASTY);
    else message[key] = pick(NASTY);
  }
  let text = JSON.stringify(message);
  if (rawNumber !== null) {
    const [key, raw] = rawNumber;
    text = `${text.slice(0, -1)}${text.length > 2 ? ',' : ''}${JSON.stringify(key)}:${raw}}`;
  }
  const r = random();
  if (r < 0.05) text = text.slice(0, Math.floor(random() * text.length));
  else if (r < 0.08) text = `[${text}]`;
  else if (r < 0.1) text = text.replace('{', '{"__proto__":{"type":"ping"},');
  return text;
}
