import { describe, expect, it } from 'vitest';
import { isValidId, MAX_ID_LENGTH } from '../../src/domain/limits.ts';
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

  it('accepts exactly the ids the topology accepts (one rule, src/domain/limits.ts)', () => {
    const ids = [
      'u1',
      'ü-ñ_✓',
      '__proto__',
      'a'.repeat(MAX_ID_LENGTH),
      'a'.repeat(MAX_ID_LENGTH + 1),
      '',
      'a|b',
      'a b',
      'a\tb',
      'a\u0000b',
      'a\u200bb',
      'a\u00adb',
      'a\ud800b',
      '\udc00',
      '😀',
      'a\u2028b',
      'a\u00a0b',
      'a\ufeffb',
    ];
    for (const requestId of ids) {
      const parsed = parseClientMessage(JSON.stringify({ type: 'carousel', requestId, slots: 2 }));
      expect(parsed.ok, JSON.stringify(requestId)).toBe(isValidId(requestId));
    }
    expect(ids.filter(isValidId)).toEqual(['u1', 'ü-ñ_✓', '__proto__', 'a'.repeat(MAX_ID_LENGTH), '😀']);
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
