/**
 * Keeps a writer's schema ids resolvable: every `intervalMs` the codec asks the registry for the ids it encodes
 * with and registers again a subject whose id is gone (deleted with `?permanent=true`). Records written with a
 * lost id before the next check are still read by the topology (streams/operators/unregistered-schema.ts).
 */
import type { Logger } from '../log/logger.ts';
import type { EventCodec } from './codec.ts';

export interface SchemaRecheck {
  close(): void;
}

/** Starts the periodic check; `intervalMs` 0 starts nothing. */
export function keepSchemasRegistered(
  codec: Pick<EventCodec, 'recheckRegistered'>,
  intervalMs: number,
  logger: Logger,
): SchemaRecheck {
  if (intervalMs <= 0) return { close: () => undefined };
  let running = false;
  const timer = setInterval(() => {
    if (running) return;
    running = true;
    codec
      .recheckRegistered()
      .catch((error: unknown) =>
        logger.warn({ err: error }, 'could not check the schema ids this writer uses; trying again later'),
      )
      .finally(() => {
        running = false;
      });
  }, intervalMs);
  timer.unref();
  return { close: () => clearInterval(timer) };
}
