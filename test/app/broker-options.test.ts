/** The embedded broker's retention from the config: bounded in memory, unlimited by size with a data directory. */
import { describe, expect, it } from 'vitest';
import { brokerOptions, MEMORY_RETENTION_BYTES } from '../../src/app/embedded.ts';
import { parseConfig } from '../../src/config/index.ts';
import { silentLogger } from '../../src/log/logger.ts';

describe('embedded broker options', () => {
  it('bounds the in-memory log by size per partition, and keeps a data directory unlimited by size', () => {
    const memory = brokerOptions(parseConfig({}), silentLogger());
    expect(memory.dataDir).toBeUndefined();
    expect(memory.retentionBytes).toBe(MEMORY_RETENTION_BYTES);
    expect(memory.retentionMs).toBe(7 * 24 * 3600 * 1000);
    const disk = brokerOptions(parseConfig({ broker: { dataDir: '/tmp/x' } }), silentLogger());
    expect(disk.retentionBytes).toBe(-1);
    const set = brokerOptions(
      parseConfig({ broker: { retentionBytes: 1024, retentionMs: 60_000 } }),
      silentLogger(),
    );
    expect(set).toMatchObject({ retentionBytes: 1024, retentionMs: 60_000 });
  });
});
