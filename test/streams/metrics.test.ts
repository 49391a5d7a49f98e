import { describe, expect, it } from 'vitest';
import { StreamMetrics } from '../../streams/metrics.ts';

describe('stream metrics', () => {
  it('counts a dead letter once when its batch is fetched and processed again', () => {
    const metrics = new StreamMetrics(() => 0);
    for (let pass = 0; pass < 3; pass++) {
      metrics.deadLettered('clickstream:0', 7, 'CROUPIER_ERR_STREAM_OUT_OF_RANGE');
      metrics.deadLettered('clickstream:0', 9, 'CROUPIER_ERR_STREAM_BAD_ID');
      metrics.deadLettered('clickstream:1', 7, 'CROUPIER_ERR_STREAM_OUT_OF_RANGE');
    }
    expect(metrics.snapshot().deadLetters).toEqual({
      CROUPIER_ERR_STREAM_OUT_OF_RANGE: 2,
      CROUPIER_ERR_STREAM_BAD_ID: 1,
    });
  });
});
