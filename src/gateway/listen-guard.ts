/**
 * The gateway's listen socket under the process's open-file limit (RLIMIT_NOFILE). WebSockets are counted
 * (descriptor-limit.ts), but a connection that never upgrades (an idle TCP connection, a slow HTTP request) holds a
 * descriptor until uWebSockets.js's HTTP idle timeout (about 10 s) closes it, and a client that opens them again and
 * again takes every descriptor: Redis and Kafka connections lost meanwhile cannot be made again, and uWebSockets.js
 * retries its failing accept (EMFILE) on every turn of its loop. uWebSockets.js accepts all that waits in the backlog
 * at once and offers no hook before its accept, so the guard works around it:
 *
 * - while listening it holds spare descriptors (`spareDescriptors`, /dev/null opened) that no connection can take;
 * - every 250 ms it reads the descriptors open (/proc/self/fd) against the limit; once fewer than a quarter of the
 *   spares are free besides them, or reading fails with EMFILE, it closes the listen socket (the kernel refuses new
 *   connections and drops those waiting in the backlog) and releases the spares, so Redis, Kafka and threads have
 *   descriptors again while the connections it accepted close by their idle timeout;
 * - once twice the spares are free again, it takes them back and listens again on the same host and port.
 *
 * The same reading follows the open-file limit: when it changes (`prlimit --pid` on the running process) the spares
 * are counted again and `onLimitChange` hears of it (the WebSocket limit is counted again there). While it does not
 * listen, `/readyz` says not ready (new connections are refused), where the probe port (probe-server.ts) answers.
 */

import type * as Uws from 'uWebSockets.js';
import { closeSync, openSync } from 'node:fs';
import type { Logger } from '../log/logger.ts';
import { listenDecision, readDescriptors, spareDescriptors } from './descriptor-limit.ts';
import { counterLines, gaugeLines } from './metrics.ts';

/** How often the descriptors are read while the gateway listens or waits to listen again. */
export const LISTEN_CHECK_MS = 250;

/** Descriptors held in reserve while the gateway listens: opened before the gateway counts its WebSocket limit. */
export class SpareDescriptors {
  /** How many it holds while the gateway listens (0 where the limit is unknown or unlimited). */
  count: number;
  private readonly fds: number[] = [];

  constructor(limit: number | null) {
    this.count = limit === null ? 0 : spareDescriptors(limit);
    this.take();
  }

  /** Counts them again for a new limit, releasing those past the new count (`take` opens those missing). */
  resize(limit: number): void {
    this.count = spareDescriptors(limit);
    for (const fd of this.fds.splice(this.count)) closeSync(fd);
  }

  get held(): number {
    return this.fds.length;
  }

  /** Opens the spares not held; false (none held) where the descriptors ran out first. */
  take(): boolean {
    try {
      while (this.fds.length < this.count) this.fds.push(openSync('/dev/null', 'r'));
      return true;
    } catch {
      this.release();
      return false;
    }
  }

  release(): void {
    for (const fd of this.fds.splice(0)) closeSync(fd);
  }
}

export interface ListenGuardOptions {
  uws: typeof Uws;
  app: Uws.TemplatedApp;
  host: string;
  /** The port listened on (the one the OS chose, where the config said 0): listened on again. */
  port: number;
  listenSocket: Uws.us_listen_socket;
  spares: SpareDescriptors;
  /** The open-file limit the gateway started under (null: unknown or unlimited). */
  limit: number | null;
  /**
   * The open-file limit changed, and the spares were counted again: `open` is the descriptors open with every spare
   * held (as when the WebSocket limit was first counted).
   */
  onLimitChange?(use: { limit: number; open: number }): void;
  logger: Logger;
}

export interface ListenGuard {
  /** Whether the listen socket is closed for want of descriptors. */
  readonly paused: boolean;
  /** `/metrics` lines: paused or not, how often, the spares held. */
  metricsText(): string;
  /** `/readyz` reasons: one while paused. */
  reasons(): string[];
  /** Stops watching, closes the listen socket where it is open and releases the spares. */
  close(): void;
}

export function guardListenSocket(options: ListenGuardOptions): ListenGuard {
  const { uws, app, host, port, spares, logger } = options;
  let listenSocket: Uws.us_listen_socket | null = options.listenSocket;
  let pauses = 0;
  let pausedAt: { open: number | null; limit: number | null } | null = null;
  let relistenFailed = false;

  const pause = (use: ReturnType<typeof readDescriptors>) => {
    if (listenSocket === null) return;
    uws.us_listen_socket_close(listenSocket);
    listenSocket = null;
    spares.release();
    pauses++;
    pausedAt = use === null || use === 'exhausted' ? { open: null, limit: null } : use;
    logger.warn(
      { ...pausedAt, spares: spares.count, port },
      'descriptors running short: the gateway stopped listening (new connections refused) until ' +
        `${2 * spares.count} are free; the connections it holds close by their idle timeout`,
    );
  };

  const resume = (use: ReturnType<typeof readDescriptors>) => {
    if (!spares.take()) return;
    let socket: Uws.us_listen_socket | false = false;
    app.listen(host, port, (s) => {
      socket = s;
    });
    if (socket === false) {
      spares.release();
      if (!relistenFailed) logger.error({ host, port }, 'the gateway could not listen again; retrying');
      relistenFailed = true;
      return;
    }
    listenSocket = socket;
    pausedAt = null;
    relistenFailed = false;
    logger.info({ ...(use === null || use === 'exhausted' ? {} : use), port }, 'the gateway listens again');
  };

  let limit = options.limit;
  const followLimit = (use: { limit: number; open: number }) => {
    if (use.limit === limit) return;
    limit = use.limit;
    const open = use.open - spares.held;
    spares.resize(use.limit);
    if (listenSocket !== null) spares.take();
    options.onLimitChange?.({ limit: use.limit, open: open + spares.count });
  };
  const timer = setInterval(() => {
    const use = readDescriptors();
    if (use !== null && use !== 'exhausted') followLimit(use);
    if (spares.count === 0) return;
    const decision = listenDecision(listenSocket !== null, use, spares.count);
    if (decision === 'pause') pause(use);
    else if (decision === 'resume') resume(use);
  }, LISTEN_CHECK_MS);
  timer.unref();

  return {
    get paused() {
      return listenSocket === null;
    },
    metricsText() {
      return `${[
        gaugeLines(
          'croupier_gateway_listen_paused',
          'Whether the gateway stopped listening while descriptors run short (1), or listens (0).',
          listenSocket === null ? 1 : 0,
        ),
        counterLines(
          'croupier_gateway_listen_pauses_total',
          'Times the gateway stopped listening because descriptors ran short.',
          pauses,
        ),
        gaugeLines(
          'croupier_gateway_spare_fds',
          'Descriptors the gateway holds in reserve while it listens, released while it does not.',
          spares.held,
        ),
      ].join('\n')}\n`;
    },
    reasons() {
      if (pausedAt === null) return [];
      const at =
        pausedAt.open === null
          ? 'no descriptor was left'
          : `${pausedAt.open} of ${pausedAt.limit} descriptors were open`;
      return [
        `the gateway stopped listening (new connections refused): ${at}; it listens again once ${2 * spares.count} are free`,
      ];
    },
    close() {
      clearInterval(timer);
      if (listenSocket !== null) uws.us_listen_socket_close(listenSocket);
      listenSocket = null;
      pausedAt = null;
      spares.release();
    },
  };
}
