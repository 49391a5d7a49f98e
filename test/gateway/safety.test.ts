import { spawnSync } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signClientToken, verifyClientToken } from '../../src/gateway/auth.ts';
import type { GatewayHandle } from '../../src/gateway/server.ts';
import { connectClient, eventually, startWorld, type World } from './support.ts';

const SECRET = 'test-secret-of-enough-length';
const ADMIN = 'admin-token-for-tests';

let world: World;
let secured: GatewayHandle;
let reloads = 0;

beforeAll(async () => {
  world = await startWorld();
  secured = await world.extraGateway(
    { authDisabled: false, authSecret: SECRET, adminToken: ADMIN, maxConnections: 2 },
    {
      admin: {
        reloadModel: async () => {
          reloads++;
          return { version: 'reloaded' };
        },
      },
    },
  );
});

afterAll(async () => {
  await world?.close();
});

function runFixture(env: Record<string, string>) {
  return spawnSync(process.execPath, ['--import', 'tsx', 'test/gateway/fixtures/start-gateway.ts'], {
    env: { ...process.env, ...env },
    encoding: 'utf8',
    timeout: 60_000,
  });
}

describe('gateway safety', () => {
  it('refuses to start on the pure-JS uWebSockets.js fallback, saying why', () => {
    const refused = runFixture({ UWS_USE_FALLBACK: '1' });
    expect(refused.status).toBe(2);
    expect(refused.stdout).toContain('refused CROUPIER_ERR_GATEWAY_NATIVE_MISSING');
    expect(refused.stdout).toContain('UWS_USE_FALLBACK');
    const started = runFixture({ UWS_USE_FALLBACK: '' });
    expect(started.stdout).toMatch(/^listening \d+/);
    expect(started.status).toBe(0);
  });

  it('signs and verifies client tokens, rejecting tampering and expiry', () => {
    const token = signClientToken(SECRET, 'ann', 60);
    expect(verifyClientToken(SECRET, token)).toEqual({ userId: 'ann' });
    expect(() => verifyClientToken('other-secret', token)).toThrow(/signature/);
    expect(() => verifyClientToken(SECRET, signClientToken(SECRET, 'ann', 60, Date.now() - 120_000))).toThrow(
      /expired/,
    );
    const [v, , sig] = token.split('.');
    const forged = `${v}.${Buffer.from(JSON.stringify({ u: 'root', exp: 9e9 })).toString('base64url')}.${sig}`;
    expect(() => verifyClientToken(SECRET, forged)).toThrow(/signature/);
  });

  it('requires a valid token for the hello when auth is on, and keeps the connection for a retry', async () => {
    const client = await connectClient(`ws://127.0.0.1:${secured.port}/ws`);
    client.send({ type: 'hello', userId: 'ann' });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'CROUPIER_ERR_GATEWAY_AUTH' });
    client.send({ type: 'hello', userId: 'ann', token: signClientToken(SECRET, 'bob', 60) });
    expect(await client.next()).toMatchObject({ type: 'error', code: 'CROUPIER_ERR_GATEWAY_AUTH' });
    client.send({ type: 'carousel', requestId: 'no', slots: 2 });
    expect(await client.next()).toMatchObject({ code: 'CROUPIER_ERR_GATEWAY_HELLO_REQUIRED' });
    client.send({ type: 'hello', userId: 'ann', token: signClientToken(SECRET, 'ann', 60) });
    expect(await client.next()).toMatchObject({ type: 'welcome', userId: 'ann' });
    client.send({ type: 'carousel', requestId: 'yes', slots: 2 });
    expect(await client.next()).toMatchObject({ type: 'carousel', requestId: 'yes' });
    client.close();
    await client.closed;
  });

  it('lets anyone say hello as any user when auth is off', async () => {
    const client = await connectClient(world.wsUrl);
    client.send({ type: 'hello', userId: 'whoever' });
    expect(await client.next()).toMatchObject({ type: 'welcome', userId: 'whoever' });
    client.close();
  });

  it('refuses connections past gateway.maxConnections', async () => {
    const url = `ws://127.0.0.1:${secured.port}/ws`;
    const first = await connectClient(url);
    const second = await connectClient(url);
    await expect(connectClient(url)).rejects.toThrow(/503/);
    first.close();
    await first.closed;
    const third = await connectClient(url);
    third.close();
    second.close();
  });

  it('disconnects a client that stops reading once its replies pile up past the backpressure bound', async () => {
    const slow = await world.extraGateway({ maxBackpressureBytes: 16 * 1024, maxMessagesPerSecond: 100_000 });
    const client = await connectClient(`ws://127.0.0.1:${slow.port}/ws`);
    client.send({ type: 'hello', userId: 'sloth' });
    await client.next((m) => m.type === 'welcome');
    const connections = async () => {
      const text = await (await fetch(`http://127.0.0.1:${slow.port}/metrics`)).text();
      return Number(/^croupier_connections (\d+)$/m.exec(text)?.[1]);
    };
    expect(await connections()).toBe(1);
    // Stop reading: the server's replies fill the socket buffers, then its backpressure.
    (client.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    for (let i = 0; i < 4000; i++) client.send({ type: 'carousel', requestId: `slow-${i}`, slots: 12 });
    // Dealing 4,000 carousels takes seconds on a loaded machine: the bound is the test's, not the server's.
    await eventually(async () => ((await connections()) === 0 ? true : undefined), 50_000);
    expect(slow.metrics.backpressureCloses).toBe(1);
    client.socket.terminate();
  });

  it('runs admin endpoints only with the admin token', async () => {
    const base = `http://127.0.0.1:${secured.port}`;
    expect((await fetch(`${base}/admin/model/reload`, { method: 'POST' })).status).toBe(401);
    const wrong = await fetch(`${base}/admin/model/reload`, {
      method: 'POST',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.status).toBe(401);
    expect(reloads).toBe(0);
    const ok = await fetch(`${base}/admin/model/reload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ version: 'reloaded' });
    expect(reloads).toBe(1);
    const noExperiments = await fetch(`${base}/admin/experiments`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(noExperiments.status).toBe(400);
  });
});
