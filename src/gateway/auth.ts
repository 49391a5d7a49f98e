/**
 * Client and admin authentication. A client token is `v1.<payload>.<signature>`: the payload is base64url
 * JSON `{"u": userId, "exp": unix seconds}`, the signature base64url HMAC-SHA256 over `v1.<payload>` with
 * `gateway.authSecret`. Whoever holds the secret (a login service) mints tokens with `signClientToken`.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { CroupierError } from '../errors/index.ts';

const VERSION = 'v1';

function mac(secret: string, data: string): Buffer {
  return createHmac('sha256', secret).update(data).digest();
}

/** A token that lets `userId` say hello until `ttlSeconds` from `nowMs`. */
export function signClientToken(
  secret: string,
  userId: string,
  ttlSeconds: number,
  nowMs = Date.now(),
): string {
  const payload = Buffer.from(
    JSON.stringify({ u: userId, exp: Math.floor(nowMs / 1000) + ttlSeconds }),
  ).toString('base64url');
  const signed = `${VERSION}.${payload}`;
  return `${signed}.${mac(secret, signed).toString('base64url')}`;
}

/** The user a valid token names; throws CROUPIER_ERR_GATEWAY_AUTH with the reason otherwise. */
export function verifyClientToken(secret: string, token: string, nowMs = Date.now()): { userId: string } {
  const parts = token.split('.');
  if (parts.length !== 3 || parts[0] !== VERSION) {
    throw new CroupierError(
      'CROUPIER_ERR_GATEWAY_AUTH',
      'the token is malformed: expected v1.<payload>.<signature>',
    );
  }
  const expected = mac(secret, `${parts[0]}.${parts[1]}`);
  // Buffer's base64url decoder skips characters it does not know and a partial last group, so a signature
  // with junk appended would decode to the same bytes: only the canonical encoding is accepted.
  const given = Buffer.from(parts[2], 'base64url');
  const canonical = given.toString('base64url') === parts[2];
  if (!canonical || given.length !== expected.length || !timingSafeEqual(given, expected)) {
    throw new CroupierError(
      'CROUPIER_ERR_GATEWAY_AUTH',
      'the token signature does not match: sign it with gateway.authSecret',
    );
  }
  let claims: { u?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw new CroupierError('CROUPIER_ERR_GATEWAY_AUTH', 'the token payload is not JSON');
  }
  if (typeof claims.u !== 'string' || typeof claims.exp !== 'number') {
    throw new CroupierError(
      'CROUPIER_ERR_GATEWAY_AUTH',
      'the token payload needs "u" (user id) and "exp" (unix seconds)',
    );
  }
  if (claims.exp * 1000 <= nowMs) {
    throw new CroupierError('CROUPIER_ERR_GATEWAY_AUTH', 'the token has expired: get a fresh one');
  }
  return { userId: claims.u };
}

/** Constant-time check of an `Authorization: Bearer <token>` header against the admin token. */
export function isAdminAuthorized(adminToken: string | undefined, header: string): boolean {
  if (adminToken === undefined || adminToken === '') return false;
  const match = /^Bearer\s+(.+)$/i.exec(header.trim());
  if (match === null) return false;
  const given = Buffer.from(match[1]);
  const expected = Buffer.from(adminToken);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
