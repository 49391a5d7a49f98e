/**
 * The gateway under the process's open-file limit (RLIMIT_NOFILE): more clients than descriptors connect at once.
 * Each is taken or refused with 503 (none left waiting in the listen backlog, where a client hangs and uWebSockets.js
 * retries the failing accept without end), and descriptors stay free for the rest of the process: `/readyz`, a new
 * HTTP connection, is answered while the WebSockets are held.
 */

import { execFileSync } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { connectionLimit, parseOpenFileLimit, WebSocketLimit } from '../../src/gateway/descriptor-limit.ts';
import { type ServeChild, startCroupierServe } from '../support/croupier-serve.ts';
import { eventually } from './support.ts';

const LIMIT = 160;
const CLIENTS = 200;

/**
 * How a WebSocket ended up: open; refused with 503; its TCP connection refused or reset by the kernel
 * (`ECONNREFUSED`, `ECONNRESET`: the listen guard stopped listening because the descriptors ran short, as it is
 * meant to while a burst's refusals are still closing, and the connections waiting in the backlog were reset); or
 * failed otherwise.
 */
type Outcome = 'open' | 'refused' | 'not-listening' | 'failed';
const NOT_LISTENING = new Set(['ECONNREFUSED', 'ECONNRESET']);

function connect(url: string, held: WebSocket[]): Promise<Outcome> {
  return new Promise((resolve) => {
    const ws = new WebSocket(url);
    held.push(ws);
    ws.once('open', () => resolve('open'));
    ws.once('unexpected-response', (_req, res) => {
      resolve(res.statusCode === 503 ? 'refused' : 'failed');
      ws.terminate();
    });
    ws.once('error', (error: NodeJS.ErrnoException) =>
      resolve(NOT_LISTENING.has(error.code ?? '') ? 'not-listening' : 'failed'),
    );
  });
}

/** A gauge or counter of the gateway's /metrics, once the gateway listens (it may have paused: listen-guard.ts). */
async function metric(base: string | undefined, name: string): Promise<number> {
  const text = await eventually(
    () =>
      fetch(new URL('/metrics', base)).then(
        (r) => r.text(),
        () => undefined,
      ),
    20_000,
  );
  return Number(new RegExp(`^${name} (\\d+)$`, 'm').exec(text)?.[1]);
}

describe('the gateway at its open-file limit', () => {
  let serve: ServeChild | undefined;
  const held: WebSocket[] = [];

  afterAll(async () => {
    for (const ws of held) ws.terminate();
    await serve?.stop();
  });

  it('takes or refuses every WebSocket and keeps answering HTTP while they are held', async () => {
    serve = await startCroupierServe(['log.level=silent'], { openFileLimit: LIMIT });
    const url = new URL('/ws', serve.url).href.replace(/^http/, 'ws');
    const settled = new Map<Outcome, number>();
    let pending = CLIENTS;
    const all = Array.from({ length: CLIENTS }, () =>
      connect(url, held).then((outcome) => {
        pending--;
        settled.set(outcome, (settled.get(outcome) ?? 0) + 1);
      }),
    );
    // Before the fix the clients past the limit stay in the backlog for good: the wait ends with them counted.
    await Promise.race([Promise.all(all), new Promise((r) => setTimeout(r, 20_000))]);
    expect({ pending, failed: settled.get('failed') ?? 0 }).toEqual({ pending: 0, failed: 0 });
    expect(settled.get('open')).toBeGreaterThan(0);
    expect(settled.get('refused')).toBeGreaterThan(0);
    // On a busy machine the 503s may close slower than the burst arrives, and the listen guard then stops
    // listening for a while: a connection refused or reset by the kernel is that, and only that.
    if ((settled.get('not-listening') ?? 0) > 0) {
      expect(await metric(serve.url, 'croupier_gateway_listen_pauses_total')).toBeGreaterThan(0);
    }
    const ready = await fetch(new URL('/readyz', serve.url), { signal: AbortSignal.timeout(20_000) });
    expect([200, 503]).toContain(ready.status);
  });

  it('says on /metrics how many descriptors are open, the limit, and the WebSockets it takes', async () => {
    const gauge = (name: string) => metric(serve?.url, name);
    expect(await gauge('process_max_fds')).toBe(LIMIT);
    expect(await gauge('process_open_fds')).toBeGreaterThan(await gauge('croupier_gateway_max_connections'));
    expect(await gauge('croupier_gateway_max_connections')).toBe(
      held.filter((ws) => ws.readyState === WebSocket.OPEN).length,
    );
  });
});

describe('the gateway whose open-file limit is changed while it runs', () => {
  let serve: ServeChild | undefined;
  const held: WebSocket[] = [];

  afterAll(async () => {
    for (const ws of held) ws.terminate();
    await serve?.stop();
  });

  /** The WebSockets the gateway says it takes, once they differ from `from` (/metrics). */
  const maxConnectionsOnceNot = (from: number) =>
    eventually(async () => {
      const value = await metric(serve?.url, 'croupier_gateway_max_connections');
      return value !== from ? value : undefined;
    }, 10_000);
  const prlimit = (soft: number) =>
    execFileSync('prlimit', ['--pid', String(serve?.pid), `--nofile=${soft}:`], { stdio: 'ignore' });
  const tally = async (url: string, count: number) => {
    const outcomes = await Promise.all(Array.from({ length: count }, () => connect(url, held)));
    return {
      open: outcomes.filter((o) => o === 'open').length,
      refused: outcomes.filter((o) => o === 'refused').length,
    };
  };

  it('counts its WebSocket limit again: fewer under a lowered limit, more once it is raised', async () => {
    serve = await startCroupierServe(['log.level=silent'], { openFileLimit: 400 });
    const url = new URL('/ws', serve.url).href.replace(/^http/, 'ws');
    const first = await maxConnectionsOnceNot(-1);
    // The soft limit lowered under the running process (prlimit --pid): the gateway takes fewer, and refuses the rest.
    prlimit(LIMIT);
    const lowered = await maxConnectionsOnceNot(first);
    expect(lowered).toBeLessThan(first);
    expect(await tally(url, lowered + 5)).toEqual({ open: lowered, refused: 5 });
    // Raised again: the gateway takes more, and clients refused before are taken now.
    prlimit(400);
    const raised = await maxConnectionsOnceNot(lowered);
    expect(raised).toBeGreaterThan(lowered + 5);
    expect(await tally(url, 5)).toEqual({ open: 5, refused: 0 });
  }, 60_000);
});

describe('the connection limit', () => {
  it('reads the soft open-file limit and keeps half the free descriptors, at most 1,024, from WebSockets', () => {
    const limits =
      'Limit Soft Limit Hard Limit Units\nMax open files            256                  4096                 files\n';
    expect(parseOpenFileLimit(limits)).toBe(256);
    expect(
      parseOpenFileLimit('Max open files            unlimited            unlimited            files\n'),
    ).toBe(null);
    expect(connectionLimit(10_000, { limit: 256, open: 100 })).toBe(78);
    expect(connectionLimit(10_000, { limit: 20_000, open: 100 })).toBe(10_000);
    expect(connectionLimit(10_000, { limit: 4_196, open: 100 })).toBe(3_072);
    expect(connectionLimit(50, { limit: 65_536, open: 100 })).toBe(50);
    expect(connectionLimit(10_000, { limit: 64, open: 100 })).toBe(0);
    expect(connectionLimit(10_000, null)).toBe(10_000);
  });

  it('is counted again only when the open-file limit changes, never below none', () => {
    const limit = new WebSocketLimit(10_000, { limit: 256, open: 100 });
    expect(limit.value).toBe(78);
    expect(limit.follow(256, 120)).toBeNull();
    expect(limit.value).toBe(78);
    expect(limit.follow(160, 100)).toEqual({ limit: 256, value: 78 });
    expect(limit.value).toBe(30);
    expect(limit.follow(64, 100)).toEqual({ limit: 160, value: 30 });
    expect(limit.value).toBe(0);
  });
});
