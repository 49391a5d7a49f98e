/**
 * The HTTP routes' last line of defence: whatever a request makes a route handler throw (or reject), the error
 * stays on that request, answered 500 with `CROUPIER_ERR_GATEWAY_INTERNAL`, and is logged. An exception out of a
 * uWebSockets.js handler ends the whole process: one request with a malformed dashboard cookie did, gateway,
 * topology and broker together.
 *
 * The guard also refuses a request whose `Content-Length` headers disagree (RFC 9112 §6.3: such a message cannot be
 * framed): its connection is closed at once, unanswered, as uWebSockets.js closes those it cannot frame itself
 * (a 400 would be sent only after the requests pipelined behind it were handled). uWebSockets.js takes the first
 * length and reads what follows the body as the next request, so behind a proxy that took another the two would
 * read different requests from the same bytes.
 */
import type { HttpRequest, HttpResponse, TemplatedApp } from 'uWebSockets.js';

type RouteHandler = (res: HttpResponse, req: HttpRequest) => unknown;

/** The route methods of a uWebSockets.js app (`ws` is not one: its handlers have their own guard). */
const ROUTE_METHODS = new Set([
  'get',
  'post',
  'put',
  'del',
  'patch',
  'options',
  'head',
  'connect',
  'trace',
  'any',
]);

const INTERNAL_ERROR = JSON.stringify({
  error: 'CROUPIER_ERR_GATEWAY_INTERNAL',
  message: 'the request could not be handled; try again',
});

/** Whether the request's Content-Length headers say different things (a list or repeats of one value is one). */
function lengthsConflict(req: HttpRequest): boolean {
  let first: string | undefined;
  let conflict = false;
  req.forEach((key, value) => {
    if (key !== 'content-length') return;
    for (const part of value.split(',')) {
      const length = part.trim();
      if (first === undefined) first = length;
      else if (length !== first) conflict = true;
    }
  });
  return conflict;
}

/** Answers 500 unless the response is already gone (answered, or aborted by the client). */
function answerFailure(res: HttpResponse): void {
  try {
    res.cork(() => {
      res
        .writeStatus('500 Internal Server Error')
        .writeHeader('Content-Type', 'application/json')
        .end(INTERNAL_ERROR);
    });
  } catch {
    // answered or aborted already: nothing more to tell it
  }
}

/**
 * `app` with every route handler registered through it guarded: a throw or a rejection answers 500 and calls
 * `onError` with the route; the app itself is unchanged for everything else (`ws`, `listen`).
 */
export function guardHttpRoutes(
  app: TemplatedApp,
  onError: (error: unknown, route: string) => void,
): TemplatedApp {
  const guarded: TemplatedApp = new Proxy(app, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver);
      if (typeof value !== 'function') return value;
      if (typeof property !== 'string' || !ROUTE_METHODS.has(property))
        return (value as (...args: unknown[]) => unknown).bind(target);
      return (pattern: string, handler: RouteHandler) => {
        const route = `${property.toUpperCase()} ${pattern}`;
        const fail = (res: HttpResponse, error: unknown) => {
          onError(error, route);
          answerFailure(res);
        };
        (value as (pattern: string, handler: RouteHandler) => unknown).call(target, pattern, (res, req) => {
          if (lengthsConflict(req)) {
            res.close();
            return;
          }
          try {
            const result = handler(res, req);
            if (result instanceof Promise) result.catch((error: unknown) => fail(res, error));
          } catch (error) {
            fail(res, error);
          }
        });
        return guarded;
      };
    },
  });
  return guarded;
}
