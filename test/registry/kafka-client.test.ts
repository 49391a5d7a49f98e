import { Writable } from 'node:stream';
import { logLevel } from 'kafkajs';
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { freePort } from '../../src/embedded/free-port.ts';
import { CroupierError } from '../../src/errors/index.ts';
import { createKafka, kafkaLogLevel, pinoLogCreator } from '../../src/kafka/index.ts';

function memoryLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString().split('\n')) if (line) lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

describe('kafkajs client', () => {
  it('refuses to build a client without brokers, naming the setting', () => {
    const settings = configSchema.parse({}).kafka;
    const error = (() => {
      try {
        createKafka(settings);
        return null;
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(CroupierError);
    expect((error as CroupierError).code).toBe('CROUPIER_ERR_CONFIG_INVALID');
    expect((error as CroupierError).message).toMatch(/KAFKA_BROKERS/);
  });

  it('routes kafkajs log entries into pino with their namespace and fields', () => {
    const { logger, lines } = memoryLogger();
    const log = pinoLogCreator(logger)(logLevel.DEBUG);
    log({
      namespace: 'Consumer',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 'now', message: 'Crash: rebalance failed', groupId: 'croupier-state' },
    });
    log({
      namespace: 'Producer',
      level: logLevel.INFO,
      label: 'INFO',
      log: { timestamp: 'now', message: 'ready' },
    });

    expect(lines).toEqual([
      expect.objectContaining({
        level: 50,
        component: 'kafka',
        namespace: 'Consumer',
        groupId: 'croupier-state',
        msg: 'Crash: rebalance failed',
      }),
      expect.objectContaining({ level: 30, namespace: 'Producer', msg: 'ready' }),
    ]);
    expect(lines[0]).not.toHaveProperty('timestamp');
    expect([
      kafkaLogLevel('silent'),
      kafkaLogLevel('warn'),
      kafkaLogLevel('info'),
      kafkaLogLevel('trace'),
    ]).toEqual([logLevel.NOTHING, logLevel.WARN, logLevel.INFO, logLevel.DEBUG]);
  });

  it('logs a failed connection through the pino bridge', async () => {
    const { logger, lines } = memoryLogger('error');
    const settings = configSchema.parse({ kafka: { clientId: 'croupier-test' } }).kafka;
    const port = await freePort();
    const kafka = createKafka(settings, [`127.0.0.1:${port}`], {
      logger,
      connectionTimeout: 500,
      retry: { retries: 0 },
    });
    const admin = kafka.admin();

    await expect(admin.connect()).rejects.toThrow();

    expect(lines.some((line) => line.level === 50 && line.component === 'kafka')).toBe(true);
    expect(lines.some((line) => (line.level as number) < 50)).toBe(false);
  });
});
