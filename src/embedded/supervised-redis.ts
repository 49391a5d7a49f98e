/**
 * The embedded `redis-server` of `croupier start`, supervised: append-only persistence (fsync every second) in a
 * data directory, and a restart on the same port and directory when the process dies (a crash, `kill -9`, the
 * OOM killer), after 200 ms doubling to 10 s while restarts fail. Redis replays its AOF, so at most the last
 * second of writes is gone, and the topology folds those again from Kafka (their offsets went with them).
 *
 * Without a data directory the server still writes its AOF, in a temporary directory removed on stop: it
 * survives its own crash, not a restart of croupier (whose embedded broker, in memory, starts empty too).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CroupierError } from '../errors/index.ts';
import type { Logger } from '../log/logger.ts';
import { lockDataDir } from './data-dir-lock.ts';
import { freePort } from './free-port.ts';
import { type RedisServerHandle, startRedisServer } from './redis-server.ts';

export interface SupervisedRedisOptions {
  binary?: string;
  /** Where the AOF lives (created if missing); '' or absent: a temporary directory removed on stop. */
  dataDir?: string;
  /** Append-only persistence (default true); without it a restarted server starts empty. */
  appendOnly?: boolean;
  logger: Logger;
}

export interface SupervisedRedisHandle {
  readonly url: string;
  readonly port: number;
  readonly dir: string;
  /** The pid of the server running now. */
  pid(): number;
  /** Times the server was restarted after it died. */
  restarts(): number;
  close(): Promise<void>;
}

const FIRST_RESTART_MS = 200;
const LONGEST_RESTART_MS = 10_000;

export async function startSupervisedRedis(options: SupervisedRedisOptions): Promise<SupervisedRedisHandle> {
  const { logger } = options;
  const host = '127.0.0.1';
  const ownDir = !options.dataDir;
  const dir = options.dataDir ? resolve(options.dataDir) : mkdtempSync(join(tmpdir(), 'croupier-redis-'));
  mkdirSync(dir, { recursive: true });
  // Two redis-servers on one directory would append to one append-only file, which then replays both's writes.
  const unlock = ownDir
    ? () => undefined
    : lockDataDir(
        dir,
        (pid, lock) =>
          new CroupierError(
            'CROUPIER_ERR_REDIS_START',
            `${dir} is the data directory of the embedded redis-server of a croupier that runs (process ${pid}; ${lock}): one data directory serves one redis-server, so give this one its own (redis.embedded.dataDir) or stop the other`,
            { dir },
          ),
      );
  const port = await freePort(host).catch((error: unknown) => {
    unlock();
    throw error;
  });
  const appendOnly = options.appendOnly ?? true;
  const launch = () =>
    startRedisServer({
      binary: options.binary,
      host,
      port,
      dir,
      appendOnly,
      appendFsync: 'everysec',
    });

  let server: RedisServerHandle | null = null;
  let restarts = 0;
  let closed = false;
  let timer: NodeJS.Timeout | undefined;
  let delayMs = FIRST_RESTART_MS;

  const watch = (running: RedisServerHandle) => {
    void running.exited.then(() => {
      if (closed || server !== running) return;
      server = null;
      logger.error({ pid: running.pid, port }, 'the embedded redis-server died; restarting it');
      restartLater();
    });
  };
  const restartLater = () => {
    if (closed) return;
    timer = setTimeout(async () => {
      try {
        const restarted = await launch();
        if (closed) {
          await restarted.close();
          return;
        }
        server = restarted;
        restarts++;
        delayMs = FIRST_RESTART_MS;
        watch(restarted);
        logger.info({ pid: restarted.pid, port, appendOnly }, 'embedded redis-server restarted');
      } catch (error) {
        logger.error({ err: error, port }, 'the embedded redis-server could not restart');
        delayMs = Math.min(LONGEST_RESTART_MS, delayMs * 2);
        restartLater();
      }
    }, delayMs);
  };

  try {
    server = await launch();
  } catch (error) {
    unlock();
    if (ownDir) rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  watch(server);
  return {
    url: `redis://${host}:${port}`,
    port,
    dir,
    pid: () => server?.pid ?? -1,
    restarts: () => restarts,
    async close() {
      closed = true;
      clearTimeout(timer);
      await server?.close();
      server = null;
      unlock();
      if (ownDir) rmSync(dir, { recursive: true, force: true });
    },
  };
}
