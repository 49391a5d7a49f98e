/**
 * Runs the live reader's read rounds every `pollMs` until stopped. A round that fails leaves the tables as they
 * are (the gateway keeps serving its last good copy) and the next one waits longer, up to a second.
 *
 * Stopping waits for the round in flight at most `STOP_WAIT_MS`: with Redis gone, a round's commands wait in the
 * client's queue through its retries (a minute with ioredis's defaults), and a gateway stopping then would take
 * that long to exit. A round that ends after the stop changes tables nobody reads any more.
 */
import { settleWithin } from '../../domain/settle.ts';
import type { Logger } from '../../log/logger.ts';

export interface FeedPoller {
  /** Stops scheduling rounds and waits for the one in flight (at most `STOP_WAIT_MS`, domain/settle.ts). */
  stop(): Promise<void>;
}

export function startFeedPoller(round: () => Promise<void>, pollMs: number, log: Logger): FeedPoller {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  let failures = 0;
  let stopped = false;

  const schedule = (delay: number) => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = round().then(
        () => {
          if (failures > 0) log.info('change feeds readable again');
          failures = 0;
          schedule(pollMs);
        },
        (error: unknown) => {
          failures++;
          if (failures === 1 || failures % 100 === 0) {
            log.error(
              { err: error, failures },
              'reading the change feeds failed; serving from the cache as is',
            );
          }
          schedule(Math.min(1000, pollMs * 2 ** Math.min(failures, 6)));
        },
      );
    }, delay);
  };
  schedule(pollMs);

  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await settleWithin(running);
    },
  };
}
