/**
 * A fast path for JSON lines that are flat objects (no nested object or array, no escape): the few
 * top-level fields an analysis needs are read by scanning the text instead of parsing the whole line,
 * which makes reading a million events several times faster. Any line the scan cannot vouch for goes to
 * JSON.parse, so the result is the same either way (a duplicated key takes its last value, as JSON.parse
 * does); the scan does not validate the rest of the line.
 */

/** Reads one primitive JSON value starting at `at`; undefined when it is not one this scan handles. */
function primitiveAt(line: string, at: number): unknown {
  while (line.charCodeAt(at) === 32) at++;
  if (line.charCodeAt(at) === 34) {
    const end = line.indexOf('"', at + 1);
    return end === -1 ? undefined : line.slice(at + 1, end);
  }
  let end = at;
  while (end < line.length) {
    const c = line.charCodeAt(end);
    if (c === 44 || c === 125) break; // , }
    end++;
  }
  const token = line.slice(at, end).trim();
  if (token === 'true') return true;
  if (token === 'false') return false;
  if (token === 'null') return null;
  if (!/^-?\d+(\.\d+)?([eE][+-]?\d+)?$/.test(token)) return undefined;
  return Number(token);
}

/**
 * The given top-level fields of a flat JSON object line, or undefined when the line is not flat, lacks a
 * field, holds null there, or holds something the scan does not read (then parse the line).
 */
export function scanFlatFields(line: string, fields: readonly string[]): Record<string, unknown> | undefined {
  if (
    line.charCodeAt(0) !== 123 ||
    line.indexOf('{', 1) !== -1 ||
    line.includes('[') ||
    line.includes('\\')
  ) {
    return undefined;
  }
  // No prototype: a field named __proto__ is kept as JSON.parse keeps it, as the record's own.
  const out: Record<string, unknown> = Object.create(null);
  for (const field of fields) {
    const key = line.lastIndexOf(`"${field}":`);
    if (key === -1) return undefined;
    const value = primitiveAt(line, key + field.length + 3);
    if (value === undefined || value === null) return undefined;
    out[field] = value;
  }
  return out;
}
