/**
 * An exception out of a uWebSockets.js route handler ends the process; the gateway's routes are registered
 * through a guard that keeps it on the request (500, logged) so the next request is served.
 */

import type { us_listen_socket } from 'uWebSockets.js';
import uws from 'uWebSockets.js';
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardHttpRoutes } from '../../src/gateway/guarded-routes.ts';

const failures: string[] = [];
/** The requests each test route's handler ran for. */
const handled: string[] = [];
let listenSocket: us_listen_socket | null = null;
let base = '';

beforeAll(async () => {
  const app = guardHttpRoutes(uws.App(), (error, route) =>
    failures.push(`${route}: ${(error as Error).message}`),
  );
  app
    .get('/throws', () => {
      throw new URIError('URI malformed');
    })
    .get('/rejects', async (res) => {
      res.onAborted(() => undefined);
      await Promise.resolve();
      throw new Error('after an await');
    })
    .get('/answers-then-throws', (res) => {
      res.end('done');
      throw new Error('too late to answer');
    })
    .get('/ok', (res) => {
      handled.push('GET /ok');
      res.end('ok');
    })
    .put('/body', (res) => {
      handled.push('PUT /body');
      const chunks: Buffer[] = [];
      res.onAborted(() => undefined);
      res.onData((chunk, isLast) => {
        chunks.push(Buffer.from(chunk.slice(0)));
        if (isLast) res.end(`got ${Buffer.concat(chunks).toString()}`);
      });
    });
  await new Promise<void>((resolve, reject) =>
    app.listen('127.0.0.1', 0, (socket) => {
      if (socket === false) reject(new Error('could not listen'));
      listenSocket = socket;
      resolve();
    }),
  );
  base = `http://127.0.0.1:${uws.us_socket_local_port(listenSocket as never)}`;
});

afterAll(() => {
  if (listenSocket) uws.us_listen_socket_close(listenSocket);
});

describe('guarded HTTP routes', () => {
  it('answers 500 for a handler that throws or rejects, and keeps serving', async () => {
    for (const path of ['/throws', '/rejects']) {
      const response = await fetch(base + path);
      expect(response.status, path).toBe(500);
      expect(await response.json(), path).toEqual({
        error: 'CROUPIER_ERR_GATEWAY_INTERNAL',
        message: 'the request could not be handled; try again',
      });
    }
    const answered = await fetch(`${base}/answers-then-throws`);
    expect(answered.status).toBe(200);
    expect(await answered.text()).toBe('done');
    const ok = await fetch(`${base}/ok`);
    expect(await ok.text()).toBe('ok');
    expect(failures).toEqual([
      'GET /throws: URI malformed',
      'GET /rejects: after an await',
      'GET /answers-then-throws: too late to answer',
    ]);
  });
});

/** Sends `request` on a new connection; what came back once the server closed it (or after 2 s). */
function exchange(request: string): Promise<{ reply: string; closedByServer: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = connect(uws.us_socket_local_port(listenSocket as never), '127.0.0.1');
    let reply = '';
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ reply, closedByServer: false });
    }, 2000);
    socket.on('data', (data) => {
      reply += data.toString();
    });
    socket.on('end', () => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ reply, closedByServer: true });
    });
    socket.on('error', reject);
    socket.write(request);
  });
}

describe('HTTP framing', () => {
  it('closes the connection of a request whose Content-Length headers differ, before any handler runs', async () => {
    // 5 bytes by the first header, 5 + 31 by the second: a request smuggled after the body by one reading, part of
    // the body by the other.
    const smuggled = 'GET /ok HTTP/1.1\r\nHost: x\r\n\r\n';
    handled.length = 0;
    const { reply, closedByServer } = await exchange(
      `PUT /body HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: ${5 + smuggled.length}\r\n\r\nhello${smuggled}`,
    );
    expect(closedByServer).toBe(true);
    expect(reply).toBe('');
    // Neither the request nor the one after its first length was handled.
    expect(handled).toEqual([]);
  });

  it('takes one Content-Length, or the same one twice', async () => {
    handled.length = 0;
    for (const lengths of [['5'], ['5', '5']]) {
      const headers = lengths.map((l) => `Content-Length: ${l}\r\n`).join('');
      const { reply } = await exchange(
        `PUT /body HTTP/1.1\r\nHost: x\r\n${headers}Connection: close\r\n\r\nhello`,
      );
      expect(reply, lengths.join(' | ')).toMatch(/^HTTP\/1\.1 200 OK\r\n[\s\S]*got hello$/);
    }
    expect(handled).toEqual(['PUT /body', 'PUT /body']);
  });
});
