/**
 * PostgreSQL log sequence numbers: `X/Y` (two 32-bit hex halves) as text, a plain number in croupier's records
 * (exact up to 2^53 bytes of WAL, 8 PiB) and in its arithmetic.
 */

/** `0/1947DC0` → 26,508,736. */
export function lsnToNumber(lsn: string): number {
  const slash = lsn.indexOf('/');
  if (slash < 0) throw new Error(`not an LSN: ${lsn}`);
  return Number.parseInt(lsn.slice(0, slash), 16) * 2 ** 32 + Number.parseInt(lsn.slice(slash + 1), 16);
}

/** 26,508,736 → `0/1947DC0`. */
export function numberToLsn(value: number): string {
  const high = Math.floor(value / 2 ** 32);
  const low = value - high * 2 ** 32;
  return `${high.toString(16).toUpperCase()}/${low.toString(16).toUpperCase()}`;
}
