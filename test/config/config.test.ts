import { describe, expect, it } from 'vitest';
import { ENV_BINDINGS, loadConfig, redactConfig } from '../../src/config/index.ts';
import { CroupierError } from '../../src/errors/index.ts';

describe('config', () => {
  it('runs on embedded defaults when nothing is set', () => {
    const config = loadConfig({ env: {} });
    expect(config.kafka.brokers).toEqual([]);
    expect(config.redis.url).toBe('');
    expect(config.schemaRegistry.url).toBe('');
    expect(config.gateway.port).toBe(8080);
  });

  it('takes environment variables over the file and --set over both', () => {
    const config = loadConfig({
      env: { KAFKA_BROKERS: 'k1:9092, k2:9092', GATEWAY_PORT: '9000', LOG_PRETTY: 'false' },
      overrides: ['gateway.port=9100', 'stream.maxBatchRecords=10'],
    });
    expect(config.kafka.brokers).toEqual(['k1:9092', 'k2:9092']);
    expect(config.gateway.port).toBe(9100);
    expect(config.stream.maxBatchRecords).toBe(10);
    expect(config.log.pretty).toBe(false);
  });

  it('takes a list in --set as its environment variable takes it, or as JSON', () => {
    const set = (value: string) =>
      loadConfig({ env: {}, overrides: [`kafka.brokers=${value}`] }).kafka.brokers;
    expect(set('127.0.0.1:9092')).toEqual(['127.0.0.1:9092']);
    expect(set('k1:9092, k2:9092')).toEqual(['k1:9092', 'k2:9092']);
    expect(set('["k3:9092"]')).toEqual(['k3:9092']);
  });

  it('names the key and what was expected when a value is bad', () => {
    const bad = (fn: () => unknown) => {
      try {
        fn();
      } catch (error) {
        expect(error).toBeInstanceOf(CroupierError);
        return (error as CroupierError).message;
      }
      throw new Error('expected a config error');
    };
    expect(bad(() => loadConfig({ env: { GATEWAY_PORT: 'eighty' } }))).toMatch(
      /GATEWAY_PORT \(gateway.port\): expected a number/,
    );
    expect(bad(() => loadConfig({ env: {}, overrides: ['gateway.port=70000'] }))).toMatch(
      /gateway\.port: Number must be less than or equal to 65535/,
    );
    expect(bad(() => loadConfig({ env: { KAFKA_BROKERS: 'nocolon' } }))).toMatch(
      /kafka\.brokers\.0: expected host:port/,
    );
    expect(bad(() => loadConfig({ env: {}, overrides: ['gateway.prot=1'] }))).toMatch(
      /gateway: unknown key\(s\) "prot"/,
    );
    expect(bad(() => loadConfig({ env: {}, overrides: ['model.priorStrength=1e308'] }))).toMatch(
      /model\.priorStrength: Number must be less than or equal to 1000000/,
    );
    expect(bad(() => loadConfig({ env: {}, overrides: ['model.ucbC=1e400'] }))).toMatch(/model\.ucbC/);
    // Beta shapes near 1e-300 stall the propensity integral or fail the draw: both lower ends are 1e-6.
    expect(bad(() => loadConfig({ env: {}, overrides: ['model.priorStrength=1e-300'] }))).toMatch(
      /model\.priorStrength: Number must be greater than or equal to 0\.000001/,
    );
    expect(bad(() => loadConfig({ env: { MODEL_THOMPSON_TEMPERATURE: '1e-300' } }))).toMatch(
      /model\.thompsonTemperature: Number must be greater than or equal to 0\.000001/,
    );
    expect(loadConfig({ env: {}, overrides: ['model.priorStrength=1e-6'] }).model.priorStrength).toBe(1e-6);
    // kafkajs's admin throws a TypeError on a topic named like an Object.prototype member.
    for (const topic of ['constructor', '__proto__', 'toString'])
      expect(bad(() => loadConfig({ env: {}, overrides: [`kafka.topics.clickstream=${topic}`] }))).toMatch(
        /kafka\.topics\.clickstream: a name every JavaScript object has/,
      );
    for (const topic of ['a/b', '..', 'x'.repeat(250), 'with space'])
      expect(bad(() => loadConfig({ env: {}, overrides: [`kafka.topics.deadLetter=${topic}`] }))).toMatch(
        /kafka\.topics\.deadLetter/,
      );
    expect(
      loadConfig({ env: {}, overrides: ['kafka.topics.clickstream=shop.clicks_v2-eu'] }).kafka.topics
        .clickstream,
    ).toBe('shop.clicks_v2-eu');
    expect(bad(() => loadConfig({ env: {}, file: '/nonexistent/croupier.json' }))).toMatch(
      /cannot read config file/,
    );
  });

  it('redacts secrets and URL passwords when printed', () => {
    const config = loadConfig({
      env: {
        REDIS_URL: 'redis://app:hunter2@redis.internal:6379',
        GATEWAY_AUTH_SECRET: 's3cret',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD: 'p4ss',
      },
    });
    const printed = JSON.stringify(redactConfig(config));
    expect(printed).not.toMatch(/hunter2|s3cret|p4ss/);
    expect(printed).toContain('redis://app:[redacted]@redis.internal:6379');
    expect(config.gateway.authSecret).toBe('s3cret');
  });

  it('gives every key an environment variable named after its path', () => {
    const config = loadConfig({
      env: {
        GATEWAY_MAX_CONNECTIONS: '12',
        STREAM_POSITION_BIAS_EXAMINATION: '1, 0.5,0.25',
        MODEL_EXECUTION_PROVIDERS: 'cuda,cpu',
        STREAM_POSITION_BIAS_ENABLED: 'yes',
      },
    });
    expect(config.gateway.maxConnections).toBe(12);
    expect(config.stream.positionBias.examination).toEqual([1, 0.5, 0.25]);
    expect(config.stream.positionBias.enabled).toBe(true);
    expect(config.model.executionProviders).toEqual(['cuda', 'cpu']);
    const names = ENV_BINDINGS.map((b) => b.env);
    expect(new Set(names).size).toBe(names.length);
    expect(names).toContain('REDIS_URL');
    expect(() => loadConfig({ env: { STREAM_POSITION_BIAS_EXAMINATION: '1,half' } })).toThrow(
      /STREAM_POSITION_BIAS_EXAMINATION \(stream.positionBias.examination\): expected a number, got "half"/,
    );
  });

  it('refuses a millisecond setting longer than a timer can wait, from the environment too', () => {
    // Node runs a setTimeout/setInterval of 2^31 ms or more after 1 ms: jobs.tickMs of 1e21 made the scheduler
    // tick every millisecond, and jobs.leaseMs of 1e21 is an expiry Redis refuses, so no job ever ran.
    // broker.retentionMs is an age compared with batches, never a wait, and may be as long as Kafka allows.
    const waits = ENV_BINDINGS.filter(
      (b) => b.kind === 'number' && b.path.endsWith('Ms') && b.path !== 'broker.retentionMs',
    );
    expect(waits.map((b) => b.path)).toEqual(
      expect.arrayContaining(['jobs.tickMs', 'jobs.leaseMs', 'gateway.cachePollMs']),
    );
    for (const b of waits) {
      expect(() => loadConfig({ env: { [b.env]: String(2 ** 31) } }), b.env).toThrow(CroupierError);
      expect(() => loadConfig({ env: { [b.env]: '1e21' } }), b.env).toThrow(CroupierError);
    }
    expect(loadConfig({ env: { JOBS_TICK_MS: String(2 ** 31 - 1) } }).jobs.tickMs).toBe(2 ** 31 - 1);
  });

  it('refuses a job period longer than a year, whose intervals counted back from now are not dates', () => {
    // jobs.train.every of 99999999999d (8.6e18 ms) was taken: the scheduler's intervals ended at the epoch and
    // began before the earliest date JavaScript has, a run claimed its lease and then failed on the date, and
    // `croupier start` never exited after SIGTERM (its lease kept renewing).
    for (const env of ['JOBS_TRAIN_EVERY', 'JOBS_WATCH_EVERY', 'JOBS_SHADOW_EVERY']) {
      for (const period of ['99999999999d', '367d', '9999999999999999999999s', '8785h'])
        expect(() => loadConfig({ env: { [env]: period } }), `${env}=${period}`).toThrow(/at most 366d/);
      expect(loadConfig({ env: { [env]: '366d' } }).jobs).toBeDefined();
    }
    expect(loadConfig({ env: { JOBS_TRAIN_EVERY: '527040m' } }).jobs.train.every).toBe('527040m');
    expect(loadConfig({ env: { JOBS_TRAIN_EVERY: ' 1s ' } }).jobs.train.every).toBe(' 1s ');
  });

  it('returns a frozen config', () => {
    const config = loadConfig({ env: {} });
    expect(Object.isFrozen(config.gateway)).toBe(true);
  });
});
