import { describe, expect, it } from 'vitest';
import { loadConfig, redactConfig } from '../../src/config/index.ts';

describe('printing the config', () => {
  it('hides a Redis URL password whole, even when it holds "@"', () => {
    for (const [url, shown] of [
      ['redis://app:p@ss@redis.internal:6379/0', 'redis://app:[redacted]@redis.internal:6379/0'],
      ['redis://:s3cr@t@10.0.0.1:6379', 'redis://:[redacted]@10.0.0.1:6379'],
      ['rediss://app:plain@host:6380', 'rediss://app:[redacted]@host:6380'],
    ]) {
      const config = loadConfig({ env: { REDIS_URL: url } });
      const printed = JSON.stringify(redactConfig(config));
      expect(printed).toContain(shown);
      expect(printed).not.toMatch(/p@ss|s3cr|plain/);
    }
  });
});
