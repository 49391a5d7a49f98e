/**
 * The dashboard on the gateway's port: `/dashboard` (the page), its script and style, uPlot from node_modules,
 * and `/dashboard/events`, a server-sent event stream of one snapshot a second (after a `history` event with the
 * time series kept so far). With auth on, the page and the stream need the admin token: as
 * `Authorization: Bearer <token>`, as `?token=<token>` (the page then keeps it in an HttpOnly cookie scoped to
 * /dashboard, so the stream and a reload carry it), or as that cookie. A slow viewer misses snapshots rather than
 * piling them up: each one is whole.
 */

import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { DashboardCollector, DashboardSnapshot } from './collector.ts';

export interface DashboardAccess {
  /** False when auth is off (the demo): the page is open like the carousel page. */
  authRequired: boolean;
  /** Whether `token` is the admin token (false when none is configured). */
  isAdminToken(token: string): boolean;
}

export interface DashboardRoutes {
  /** Ends every open event stream. */
  close(): void;
}

const COOKIE = 'croupier_dashboard';
const PAGE_FILES: Record<string, { file: URL | string; type: string }> = {
  '/dashboard': { file: new URL('./page/index.html', import.meta.url), type: 'text/html; charset=utf-8' },
  '/dashboard/app.js': {
    file: new URL('./page/app.js', import.meta.url),
    type: 'text/javascript; charset=utf-8',
  },
  '/dashboard/style.css': {
    file: new URL('./page/style.css', import.meta.url),
    type: 'text/css; charset=utf-8',
  },
  '/dashboard/uplot.js': {
    file: createRequire(import.meta.url).resolve('uplot/dist/uPlot.iife.min.js'),
    type: 'text/javascript; charset=utf-8',
  },
  '/dashboard/uplot.css': {
    file: createRequire(import.meta.url).resolve('uplot/dist/uPlot.min.css'),
    type: 'text/css; charset=utf-8',
  },
};

/** The token a request carries, from the Authorization header, the query or the dashboard's cookie. */
function tokenOf(req: HttpRequest): { token: string; fromQuery: boolean } | null {
  const bearer = /^Bearer\s+(.+)$/i.exec(req.getHeader('authorization').trim());
  if (bearer !== null) return { token: bearer[1], fromQuery: false };
  const query = new URLSearchParams(req.getQuery() ?? '').get('token');
  if (query) return { token: query, fromQuery: true };
  for (const part of req.getHeader('cookie').split(';')) {
    const [name, ...value] = part.trim().split('=');
    if (name === COOKIE) return { token: decodedCookie(value.join('=')), fromQuery: false };
  }
  return null;
}

/**
 * A cookie value as the page set it (percent-encoded); one that is not valid percent-encoding is taken as it is,
 * which no admin token matches. decodeURIComponent threw on such a value inside the request handler, and the
 * exception ended the whole process.
 */
function decodedCookie(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}

interface Viewer {
  res: HttpResponse;
  busy: boolean;
  open: boolean;
}

export function registerDashboardRoutes(
  app: TemplatedApp,
  collector: DashboardCollector,
  access: DashboardAccess,
): DashboardRoutes {
  const viewers = new Set<Viewer>();
  let lastShot: DashboardSnapshot | undefined;
  let lastFrame = '';

  /** Checks the token; answers 401 and returns null when refused; otherwise the Set-Cookie to send, if any. */
  const admit = (res: HttpResponse, req: HttpRequest, refusal: string): { cookie: string } | null => {
    if (!access.authRequired) return { cookie: '' };
    const given = tokenOf(req);
    if (given !== null && access.isAdminToken(given.token)) {
      return {
        cookie: given.fromQuery
          ? `${COOKIE}=${encodeURIComponent(given.token)}; Path=/dashboard; HttpOnly; SameSite=Strict`
          : '',
      };
    }
    res
      .writeStatus('401 Unauthorized')
      .writeHeader('Content-Type', 'text/plain; charset=utf-8')
      .writeHeader('Cache-Control', 'no-store')
      .end(refusal);
    return null;
  };

  const refusal =
    'the dashboard needs the admin token while gateway auth is on: open /dashboard?token=<gateway.adminToken> ' +
    '(GATEWAY_ADMIN_TOKEN), or send Authorization: Bearer <token>\n';

  for (const [route, { file, type }] of Object.entries(PAGE_FILES)) {
    const body = readFileSync(file);
    const guarded = route === '/dashboard';
    app.get(route, (res, req) => {
      let cookie = '';
      if (guarded) {
        const admitted = admit(res, req, refusal);
        if (admitted === null) return;
        cookie = admitted.cookie;
      }
      res.writeHeader('Content-Type', type).writeHeader('Cache-Control', 'no-cache');
      if (cookie !== '') res.writeHeader('Set-Cookie', cookie);
      res.end(body);
    });
  }

  const send = (viewer: Viewer, frame: string) => {
    if (!viewer.open || viewer.busy) return;
    viewer.res.cork(() => {
      if (!viewer.res.write(frame)) {
        viewer.busy = true;
        viewer.res.onWritable(() => {
          viewer.busy = false;
          return true;
        });
      }
    });
  };

  /** The event of a snapshot, encoded once for all viewers. */
  const frameOf = (shot: DashboardSnapshot): string => {
    if (shot !== lastShot) {
      lastShot = shot;
      lastFrame = `event: snapshot\ndata: ${JSON.stringify(shot)}\n\n`;
    }
    return lastFrame;
  };

  app.get('/dashboard/events', (res, req) => {
    if (admit(res, req, refusal) === null) return;
    const viewer: Viewer = { res, busy: false, open: true };
    let unsubscribe: () => void = () => undefined;
    res.onAborted(() => {
      viewer.open = false;
      viewers.delete(viewer);
      unsubscribe();
    });
    res.cork(() => {
      res
        .writeStatus('200 OK')
        .writeHeader('Content-Type', 'text/event-stream')
        .writeHeader('Cache-Control', 'no-cache')
        .writeHeader('X-Accel-Buffering', 'no');
      res.write(`retry: 2000\nevent: history\ndata: ${JSON.stringify(collector.history())}\n\n`);
    });
    viewers.add(viewer);
    unsubscribe = collector.subscribe((shot) => send(viewer, frameOf(shot)));
  });

  return {
    close() {
      for (const viewer of viewers) {
        if (!viewer.open) continue;
        viewer.open = false;
        viewer.res.cork(() => viewer.res.end());
      }
      viewers.clear();
    },
  };
}
