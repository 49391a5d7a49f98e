/** Structured logging: pino JSON by default, human-readable (pino-pretty) in a terminal. */
import pino, { type Logger } from 'pino';

export type { Logger };

export interface LoggerOptions {
  level?: string;
  /** Human-readable output. Default: when stdout is a terminal. */
  pretty?: boolean;
  name?: string;
  /** Destination file descriptor (default 1, stdout). */
  fd?: number;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const pretty = options.pretty ?? Boolean(process.stdout.isTTY);
  const base = { level: options.level ?? 'info', name: options.name ?? 'croupier' };
  if (pretty) {
    return pino({
      ...base,
      transport: {
        target: 'pino-pretty',
        options: {
          colorize: true,
          destination: options.fd ?? 1,
          translateTime: 'SYS:HH:MM:ss.l',
          ignore: 'pid,hostname',
        },
      },
    });
  }
  return pino(base, pino.destination({ fd: options.fd ?? 1, sync: false }));
}

/** A logger that drops everything; for library use and tests. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
