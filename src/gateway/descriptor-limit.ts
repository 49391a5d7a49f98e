/**
 * How many WebSockets the gateway takes at once under the process's open-file limit (RLIMIT_NOFILE). Each
 * connection is a descriptor, and so is every Redis and Kafka connection, archive file, worker thread and HTTP
 * request of the process. Past the limit uWebSockets.js's accept fails with EMFILE and is retried on every turn of
 * its loop: the gateway's thread spins, every client past the limit (an HTTP `/readyz` probe too) waits in the
 * listen backlog unanswered, and a Redis or Kafka connection lost meanwhile cannot be made again. So the gateway
 * keeps half the descriptors the process has free when it starts listening, and at most `RESERVED_DESCRIPTORS`, for
 * everything else, takes the rest (`gateway.maxConnections` where that is fewer) and refuses further upgrades with
 * 503.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { gaugeLines } from './metrics.ts';

/** The most descriptors kept from WebSockets: what the rest of croupier could open at once, with room to spare. */
export const RESERVED_DESCRIPTORS = 1024;

/**
 * The soft open-file limit from the text of /proc/self/limits (`Max open files  1024  4096  files`), or null where
 * it is unlimited or not found.
 */
export function parseOpenFileLimit(limitsText: string): number | null {
  const m = /^Max open files\s+(\d+|unlimited)\s/m.exec(limitsText);
  if (m === null || m[1] === 'unlimited') return null;
  return Number(m[1]);
}

/**
 * This process's open-file limit and the descriptors it has open now; `exhausted` where reading them failed for want
 * of a descriptor (EMFILE, ENFILE), null where /proc does not say otherwise.
 */
export function readDescriptors(): { limit: number; open: number } | 'exhausted' | null {
  try {
    const limit = parseOpenFileLimit(readFileSync('/proc/self/limits', 'latin1'));
    if (limit === null) return null;
    return { limit, open: readdirSync('/proc/self/fd').length };
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code === 'EMFILE' || code === 'ENFILE' ? 'exhausted' : null;
  }
}

/** This process's open-file limit and the descriptors it has open now, or null where /proc does not say. */
export function descriptorUse(): { limit: number; open: number } | null {
  const use = readDescriptors();
  return use === 'exhausted' ? null : use;
}

/**
 * The descriptors the gateway holds in reserve while it listens (listen-guard.ts): an eighth of the limit, at least
 * 32 and at most 256. They are released when it stops listening, for Redis, Kafka and threads to connect or start:
 * croupier start's own connections and threads are a few dozen. More would be taken from WebSockets (the spares are
 * open when the WebSocket limit is counted), fewer could leave a Redis or Kafka client without a descriptor.
 */
export function spareDescriptors(limit: number): number {
  return Math.min(256, Math.max(32, Math.ceil(limit / 8)));
}

/**
 * Whether the gateway stops or starts listening, from the descriptors now. Listening, it stops once fewer than a
 * quarter of `spares` are free besides the spares it holds (or none could be read: `exhausted`); stopped, it listens
 * again once twice `spares` are free, so that taking the spares back still leaves as many free.
 */
export function listenDecision(
  listening: boolean,
  use: { limit: number; open: number } | 'exhausted' | null,
  spares: number,
): 'pause' | 'resume' | 'keep' {
  if (use === null) return 'keep';
  const free = use === 'exhausted' ? 0 : use.limit - use.open;
  if (listening) return free < Math.ceil(spares / 4) ? 'pause' : 'keep';
  return free >= 2 * spares ? 'resume' : 'keep';
}

/**
 * The connections the gateway takes: `configured`, or the free descriptors less those kept (half of them, at most
 * `RESERVED_DESCRIPTORS`) where that is fewer.
 */
export function connectionLimit(configured: number, use: { limit: number; open: number } | null): number {
  if (use === null) return configured;
  const free = Math.max(0, use.limit - use.open);
  return Math.min(configured, free - Math.min(Math.ceil(free / 2), RESERVED_DESCRIPTORS));
}

/**
 * The WebSockets the gateway takes, counted when it starts listening and again whenever the open-file limit changes
 * (`prlimit --pid` on the running process), so that a raised limit takes more WebSockets and a lowered one fewer,
 * without a restart.
 */
export class WebSocketLimit {
  /** WebSockets taken at once now. */
  value: number;
  /** The open-file limit `value` was counted under (null: unknown or unlimited). */
  private countedUnder: number | null;

  constructor(
    readonly configured: number,
    use: { limit: number; open: number } | null,
  ) {
    this.countedUnder = use?.limit ?? null;
    this.value = connectionLimit(configured, use);
  }

  /**
   * Counts again when `limit` is not the one counted under: `open` is the descriptors open besides the WebSockets
   * (and with the spares, as when it was first counted). The previous limit and value when it counted again.
   */
  follow(limit: number, open: number): { limit: number | null; value: number } | null {
    if (limit === this.countedUnder) return null;
    const before = { limit: this.countedUnder, value: this.value };
    this.countedUnder = limit;
    this.value = Math.max(0, connectionLimit(this.configured, { limit, open }));
    return before;
  }
}

/**
 * `/metrics` lines of the descriptors: open and the limit (Prometheus's `process_open_fds` and `process_max_fds`),
 * and the WebSockets the gateway takes. Descriptors near the limit are what an operator watches for: past it no
 * Redis, Kafka or client connection can be made (the two are left out when even reading them fails).
 */
export function descriptorMetricsText(maxConnections: number): string {
  const use = descriptorUse();
  const lines = [
    gaugeLines(
      'croupier_gateway_max_connections',
      'WebSockets the gateway takes at once (gateway.maxConnections, or fewer under the open-file limit).',
      maxConnections,
    ),
  ];
  if (use !== null) {
    lines.push(
      gaugeLines('process_open_fds', 'Open file descriptors of the process.', use.open),
      gaugeLines('process_max_fds', 'The open-file limit of the process (RLIMIT_NOFILE).', use.limit),
    );
  }
  return `${lines.join('\n')}\n`;
}
