/**
 * A request's cost grows with the topics and partitions it lists: one Fetch frame naming a partition 200,000
 * times held the broker thread for seconds, and one Metadata request naming 20,000 new topics created them all.
 * Past MAX_REQUEST_ENTRIES the request is refused (its connection closed) and nothing of it is done; requests
 * within it are served as before.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_REQUEST_ENTRIES, requestEntries } from '../../src/broker/network/request-limits.ts';
import { ApiKey } from '../../src/broker/protocol/api-keys.ts';
import type { Encoder } from '../../src/broker/protocol/encoder.ts';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { RawClient } from './support/raw-client.ts';

let broker: TestBroker;
beforeAll(async () => {
  broker = await startTestBroker({ defaultPartitions: 1 });
});
afterAll(async () => {
  await broker?.close();
});

const fetchOf = (topic: string, entries: number) => (e: Encoder) => {
  e.int32(-1)
    .int32(0)
    .int32(1)
    .int32(1 << 20)
    .int8(0);
  e.int32(1).string(topic).int32(entries);
  for (let i = 0; i < entries; i++)
    e.int32(0)
      .int64(0)
      .int32(1 << 20);
};

describe('requests that list too many topics or partitions', () => {
  it('are refused before anything is done, and the broker goes on serving', async () => {
    const client = await RawClient.connect(broker.brokers[0]!);
    const names = Array.from({ length: MAX_REQUEST_ENTRIES + 1 }, (_, i) => `made-up-${i}`);
    await expect(
      client.request(ApiKey.Metadata, 1, (e) => {
        e.int32(names.length);
        for (const name of names) e.string(name);
      }),
    ).rejects.toThrow('connection closed');
    expect(broker.handle.broker.partition('made-up-0', 0)).toBeUndefined();

    const fetcher = await RawClient.connect(broker.brokers[0]!);
    const metadata = await fetcher.request(ApiKey.Metadata, 1, (e) => {
      e.int32(1).string('real');
    });
    expect(metadata).toBeDefined();
    await expect(fetcher.request(ApiKey.Fetch, 4, fetchOf('real', 200_000))).rejects.toThrow(
      'connection closed',
    );

    const ok = await RawClient.connect(broker.brokers[0]!);
    const response = await ok.request(ApiKey.Fetch, 4, fetchOf('real', 3));
    response.int32(); // throttle
    expect(response.int32()).toBe(1); // topics
    response.string();
    expect(response.int32()).toBe(3); // partitions, one answer each
    ok.close();
  });

  it('counts topics and their partitions, in every list a request has', () => {
    expect(requestEntries({ topics: null })).toBe(0);
    expect(requestEntries({ topics: ['a', 'b'] })).toBe(2);
    expect(
      requestEntries({
        topics: [{ name: 'a', partitions: [{ index: 0 }, { index: 1 }] }],
        forgottenTopics: [{ name: 'b', partitions: [0] }],
      }),
    ).toBe(5);
  });
});
