/**
 * With gateway auth on, the dashboard and its event stream are the operator's: refused without the admin token,
 * served with it (as a Bearer header, or as ?token= which the page keeps in a cookie scoped to /dashboard).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startWorld, type World } from '../gateway/support.ts';

const ADMIN_TOKEN = 'dashboard-auth-admin';
let world: World;

beforeAll(async () => {
  world = await startWorld({
    authDisabled: false,
    authSecret: 'dashboard-auth-secret',
    adminToken: ADMIN_TOKEN,
  });
}, 60_000);

afterAll(async () => {
  await world?.close();
});

/** Reads an event stream until `marker` arrives (then stops reading); the text read so far. */
async function readUntil(response: Response, marker: string, abort: AbortController): Promise<string> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  while (!text.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  abort.abort();
  return text;
}

describe('the dashboard with auth on', () => {
  it('refuses the page and its stream without the admin token, or with a wrong one', async () => {
    for (const path of [
      'dashboard',
      'dashboard/events',
      'dashboard?token=wrong',
      'dashboard/events?token=wrong',
    ]) {
      const response = await fetch(`${world.httpUrl}/${path}`);
      expect(response.status, path).toBe(401);
      expect(await response.text(), path).toContain('admin token');
    }
    const wrongBearer = await fetch(`${world.httpUrl}/dashboard/events`, {
      headers: { authorization: 'Bearer not-the-token' },
    });
    expect(wrongBearer.status).toBe(401);
    await wrongBearer.text();
  });

  it('serves the page and a stream of snapshots with the admin token', async () => {
    const page = await fetch(`${world.httpUrl}/dashboard`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('operator');

    const abort = new AbortController();
    const stream = await fetch(`${world.httpUrl}/dashboard/events`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
      signal: abort.signal,
    });
    expect(stream.status).toBe(200);
    expect(stream.headers.get('content-type')).toBe('text/event-stream');
    const text = await readUntil(stream, 'event: snapshot', abort);
    expect(text).toContain('event: history');
    const data = text
      .slice(text.indexOf('event: snapshot'))
      .split('\n')[1]
      .replace(/^data: /, '');
    const snapshot = JSON.parse(data) as { serving: { totals: { connections: number } } };
    expect(snapshot.serving.totals.connections).toBeGreaterThanOrEqual(0);
  });

  it('keeps a token given in the address in a cookie that opens the stream', async () => {
    const page = await fetch(`${world.httpUrl}/dashboard?token=${ADMIN_TOKEN}`);
    expect(page.status).toBe(200);
    await page.text();
    const cookie = page.headers.get('set-cookie') ?? '';
    expect(cookie).toMatch(/^croupier_dashboard=.+; Path=\/dashboard; HttpOnly; SameSite=Strict$/);
    const abort = new AbortController();
    const stream = await fetch(`${world.httpUrl}/dashboard/events`, {
      headers: { cookie: cookie.split(';')[0] },
      signal: abort.signal,
    });
    expect(stream.status).toBe(200);
    expect(await readUntil(stream, 'event: history', abort)).toContain('event: history');
  });

  it('refuses a cookie whose token is not valid percent-encoding, and keeps serving', async () => {
    // decodeURIComponent threw on these inside the request handler, which ended the whole process.
    for (const value of ['%E0%A4%A', '%', '%zz', `${ADMIN_TOKEN}%`]) {
      for (const path of ['dashboard', 'dashboard/events']) {
        const response = await fetch(`${world.httpUrl}/${path}`, {
          headers: { cookie: `croupier_dashboard=${value}` },
        });
        expect(response.status, `${path} ${value}`).toBe(401);
        expect(await response.text(), `${path} ${value}`).toContain('admin token');
      }
    }
    const page = await fetch(`${world.httpUrl}/dashboard`, {
      headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
    });
    expect(page.status).toBe(200);
    await page.text();
  });
});
