/** A stack of things to close, closed in reverse order of opening; one failure does not stop the rest. */
import type { Logger } from '../log/logger.ts';

export interface ShutdownStack {
  /** Registers a closer; the last registered closes first. */
  push(closer: () => Promise<void>): void;
  /** Runs every closer once, newest first, logging (not throwing) failures. */
  close(): Promise<void>;
}

export function createShutdownStack(logger: Logger): ShutdownStack {
  const closers: (() => Promise<void>)[] = [];
  let closing: Promise<void> | null = null;
  return {
    push(closer) {
      closers.push(closer);
    },
    close() {
      closing ??= (async () => {
        while (closers.length > 0) {
          const closer = closers.pop()!;
          try {
            await closer();
          } catch (error) {
            logger.warn({ err: error }, 'error while stopping');
          }
        }
      })();
      return closing;
    },
  };
}

/** Resolves on the first SIGINT or SIGTERM. */
export function untilSignal(logger: Logger, what: string): Promise<void> {
  return new Promise((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      logger.info({ signal }, `stopping ${what}`);
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
