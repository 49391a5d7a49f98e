import { describe, expect, it } from 'vitest';
import { newSocketData, takeToken } from '../../src/gateway/connection.ts';
import { parseClientMessage } from '../../src/gateway/protocol.ts';

describe('protocol and limits', () => {
  it('names the offending field of a refused message and echoes its requestId', () => {
    const parsed = parseClientMessage(JSON.stringify({ type: 'subscribe', requestId: 'q1', slots: 2.5 }));
    expect(parsed).toMatchObject({ ok: false, code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE', requestId: 'q1' });
    if (!parsed.ok) expect(parsed.message).toMatch(/^subscribe: slots: /);
    expect(parseClientMessage('[]')).toMatchObject({ ok: false, code: 'CROUPIER_ERR_GATEWAY_BAD_MESSAGE' });
    expect(parseClientMessage(JSON.stringify({ type: 'ping', extra: 1 }))).toEqual({
      ok: true,
      message: { type: 'ping' },
    });
  });

  it('lets a connection burst one second of messages, then refills at the configured rate', () => {
    const data = newSocketData(1, 's', '127.0.0.1', 10);
    const t0 = data.refilledAt;
    let accepted = 0;
    for (let i = 0; i < 25; i++) if (takeToken(data, 10, t0)) accepted++;
    expect(accepted).toBe(10);
    expect(takeToken(data, 10, t0 + 50)).toBe(false);
    expect(takeToken(data, 10, t0 + 100)).toBe(true);
  });
});
