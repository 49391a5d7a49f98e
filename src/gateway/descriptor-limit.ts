/**
 * How many WebSockets the gateway takes at once under the process's open-file limit (RLIMIT_NOFILE). Each
 * connection is a descriptor, and so is every Redis and Kafka connection, archive file, worker thread and HTTP
 * request of the process. Past the limit uWebSockets.js's accept fails with EMFILE and is retried on every turn of
 * its loop: the gateway's thread spins, every client past the limit (an HTTP `/readyz` probe too) waits in the
 * listen backlog unanswered, and a Redis or Kafka connection lost meanwhile cannot be made again. So the gateway
 * takes at most half the descriptors the process has free when it starts listening (`gateway.maxConnections`
 * where that is fewer) and refuses the rest with 503, keeping the other half for everything else.
 */
import { readdirSync, readFileSync } from 'node:fs';

/**
 * The soft open-file limit from the text of /proc/self/limits (`Max open files  1024  4096  files`), or null where
 * it is unlimited or not found.
 */
export function parseOpenFileLimit(limitsText: string): number | null {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  if (m === null || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/** This process's open-file limit and the descriptors it has open now, or null where /proc does not say. */
export function descriptorUse(): { limit: number; open: number } | null {
  try {
    const limit = parseOpenFileLimit(readFileSync('/proc/self/limits', 'latin1'));
    if (limit === null) return null;
    return { limit, open: readdirSync('/proc/self/fd').length };
  } catch {
    return null;
  }
}

/** The connections the gateway takes: `configured`, or half the free descriptors where that is fewer. */
export function connectionLimit(configured: number, use: { limit: number; open: number } | null): number {
  if (use === null) return configured;
  return Math.min(configured, Math.max(0, Math.floor((use.limit - use.open) / 2)));
}
