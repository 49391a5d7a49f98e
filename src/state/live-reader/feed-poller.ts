/**
 * Runs the live reader's read rounds every `pollMs` until stopped. A round that fails leaves the tables as they
 * are (the gateway keeps serving its last good copy) and the next one waits longer, up to a second.
 */
import type { Logger } from '../../log/logger.ts';

export interface FeedPoller {
  /** Stops scheduling rounds and waits for the one in flight. */
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
      await running.catch(() => undefined);
    },
  };
}
