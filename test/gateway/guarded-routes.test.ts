/**
 * An exception out of a uWebSockets.js route handler ends the process; the gateway's routes are registered
 * through a guard that keeps it on the request (500, logged) so the next request is served.
 */
import type { us_listen_socket } from 'uWebSockets.js';
import uws from 'uWebSockets.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { guardHttpRoutes } from '../../src/gateway/guarded-routes.ts';

const failures: string[] = [];
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
      res.end('ok');
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
