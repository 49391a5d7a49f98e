/**
 * The gateway's HTTP side, on the same port as the WebSocket: the carousel page, health, readiness,
 * Prometheus metrics, a user list for the page, and the admin endpoints (admin token required).
 */

import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { readFileSync } from 'node:fs';
import { isAdminAuthorized } from './auth.ts';

export interface Readiness {
  ready: boolean;
  /** Why the gateway should not take traffic now (empty when ready). */
  reasons: string[];
  /**
   * What is wrong beside the serving path and must not take it out of rotation: an archive partition that does
   * not advance (HDFS or the registry down) leaves every carousel right, and failing readiness on it would stop
   * every replica serving at once.
   */
  warnings: string[];
}

export interface AdminHooks {
  /** `POST /admin/model/reload`: reloads the model from the registry; resolves to what to report. */
  reloadModel?: () => Promise<unknown>;
  /** `GET /admin/experiments`. */
  getExperiments?: () => unknown;
  /** `PUT /admin/experiments` with a JSON body; throws a CroupierError on a bad config. */
  setExperiments?: (config: unknown) => Promise<unknown> | unknown;
}

export interface HttpRouteDeps {
  adminToken: string | undefined;
  readiness: () => Readiness;
  metricsText: () => string;
  userIds?: (limit: number) => string[];
  admin: AdminHooks;
  authDisabled: boolean;
}

const PAGE_FILES: Record<string, string> = {
  '/': 'index.html',
  '/index.html': 'index.html',
  '/app.js': 'app.js',
  '/style.css': 'style.css',
};
const CONTENT_TYPES: Record<string, string> = {
  html: 'text/html; charset=utf-8',
  js: 'text/javascript; charset=utf-8',
  css: 'text/css; charset=utf-8',
};
const MAX_ADMIN_BODY = 1024 * 1024;

function json(res: HttpResponse, status: string, body: unknown): void {
  res.cork(() => {
    res.writeStatus(status).writeHeader('Content-Type', 'application/json').end(JSON.stringify(body));
  });
}

/** Reads a request body (bounded); `onAborted` is attached before anything asynchronous happens. */
function readBody(res: HttpResponse, onBody: (body: Buffer | null) => void): { aborted: () => boolean } {
  let aborted = false;
  const chunks: Buffer[] = [];
  let size = 0;
  res.onAborted(() => {
    aborted = true;
  });
  res.onData((chunk, isLast) => {
    size += chunk.byteLength;
    if (size > MAX_ADMIN_BODY) {
      if (!aborted) {
        aborted = true;
        onBody(null);
      }
      return;
    }
    chunks.push(Buffer.from(chunk.slice(0)));
    if (isLast && !aborted) onBody(Buffer.concat(chunks));
  });
  return { aborted: () => aborted };
}

export function registerHttpRoutes(app: TemplatedApp, deps: HttpRouteDeps): void {
  const pageDir = new URL('./page/', import.meta.url);
  const pages = new Map<string, { type: string; body: Buffer }>();
  for (const [route, file] of Object.entries(PAGE_FILES)) {
    const ext = file.slice(file.lastIndexOf('.') + 1);
    pages.set(route, { type: CONTENT_TYPES[ext], body: readFileSync(new URL(file, pageDir)) });
  }

  for (const [route, page] of pages) {
    app.get(route, (res, req) => {
      // An upgrade to `/` is a WebSocket client: let the WebSocket route take it.
      if (req.getHeader('upgrade').toLowerCase() === 'websocket') {
        req.setYield(true);
        return;
      }
      res.writeHeader('Content-Type', page.type).writeHeader('Cache-Control', 'no-cache').end(page.body);
    });
  }

  app.get('/healthz', (res) => {
    res.writeHeader('Content-Type', 'text/plain').end('ok\n');
  });

  app.get('/readyz', (res) => {
    const readiness = deps.readiness();
    res
      .writeStatus(readiness.ready ? '200 OK' : '503 Service Unavailable')
      .writeHeader('Content-Type', 'application/json')
      .end(JSON.stringify(readiness));
  });

  app.get('/metrics', (res) => {
    res.writeHeader('Content-Type', 'text/plain; version=0.0.4; charset=utf-8').end(deps.metricsText());
  });

  app.get('/api/config', (res) => {
    res
      .writeHeader('Content-Type', 'application/json')
      .end(JSON.stringify({ authRequired: !deps.authDisabled }));
  });

  app.get('/api/users', (res, req) => {
    // User ids are personal data: with auth on, only the admin token lists them.
    if (!deps.authDisabled && !isAdminAuthorized(deps.adminToken, req.getHeader('authorization'))) {
      json(res, '401 Unauthorized', {
        error: 'CROUPIER_ERR_GATEWAY_AUTH',
        message: 'with auth on, listing users needs Authorization: Bearer <gateway.adminToken>',
      });
      return;
    }
    const limit = Math.min(500, Math.max(1, Number(req.getQuery('limit')) || 50));
    res
      .writeHeader('Content-Type', 'application/json')
      .end(JSON.stringify({ users: deps.userIds?.(limit) ?? [] }));
  });

  const admin = (handler: (body: Buffer | null) => Promise<unknown> | unknown, withBody: boolean) => {
    return (res: HttpResponse, req: HttpRequest) => {
      if (!isAdminAuthorized(deps.adminToken, req.getHeader('authorization'))) {
        const why =
          deps.adminToken === undefined || deps.adminToken === ''
            ? 'admin endpoints are off: set gateway.adminToken (GATEWAY_ADMIN_TOKEN)'
            : 'send Authorization: Bearer <gateway.adminToken>';
        res.writeStatus('401 Unauthorized').writeHeader('Content-Type', 'application/json');
        res.end(JSON.stringify({ error: 'CROUPIER_ERR_GATEWAY_AUTH', message: why }));
        return;
      }
      const run = (body: Buffer | null, aborted: () => boolean) => {
        Promise.resolve()
          .then(() => handler(body))
          .then(
            (result) => {
              if (!aborted()) json(res, '200 OK', result ?? { ok: true });
            },
            (error: unknown) => {
              if (aborted()) return;
              const err = error as { code?: string; message?: string };
              json(res, '400 Bad Request', {
                error: err.code ?? 'CROUPIER_ERR_GATEWAY_CONFIG',
                message: err.message ?? String(error),
              });
            },
          );
      };
      if (withBody) {
        const state = readBody(res, (body) => {
          if (body === null) json(res, '413 Payload Too Large', { error: 'body over 1 MiB' });
          else run(body, state.aborted);
        });
      } else {
        let aborted = false;
        res.onAborted(() => {
          aborted = true;
        });
        run(null, () => aborted);
      }
    };
  };

  const notConfigured = (what: string) => {
    throw new Error(`${what} is not available in this gateway`);
  };

  app.post(
    '/admin/model/reload',
    admin(() => (deps.admin.reloadModel ? deps.admin.reloadModel() : notConfigured('model reload')), false),
  );
  app.get(
    '/admin/experiments',
    admin(
      () => (deps.admin.getExperiments ? deps.admin.getExperiments() : notConfigured('experiments')),
      false,
    ),
  );
  app.put(
    '/admin/experiments',
    admin((body) => {
      if (!deps.admin.setExperiments) return notConfigured('experiments');
      let parsed: unknown;
      try {
        parsed = JSON.parse((body ?? Buffer.alloc(0)).toString('utf8'));
      } catch {
        throw new Error('the body must be JSON');
      }
      return deps.admin.setExperiments(parsed);
    }, true),
  );

  app.any('/*', (res) => {
    res.writeStatus('404 Not Found').writeHeader('Content-Type', 'text/plain').end('not found\n');
  });
}
