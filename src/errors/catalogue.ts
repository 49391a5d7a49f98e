/**
 * The one catalogue of croupier's error codes. Each part owns a file in `codes/` listing its codes as an
 * `as const` tuple; this file joins them, so `ErrorCode` is the union of every code croupier can raise.
 */
import { ARCHIVE_ERROR_CODES } from './codes/archive.ts';
import { BROKER_ERROR_CODES } from './codes/broker.ts';
import { CDC_ERROR_CODES } from './codes/cdc.ts';
import { CORE_ERROR_CODES } from './codes/core.ts';
import { DECISION_ERROR_CODES } from './codes/decision.ts';
import { GATEWAY_ERROR_CODES } from './codes/gateway.ts';
import { REGISTRY_ERROR_CODES } from './codes/registry.ts';
import { SHADOW_ERROR_CODES } from './codes/shadow.ts';
import { SIMULATOR_ERROR_CODES } from './codes/simulator.ts';
import { STATS_ERROR_CODES } from './codes/stats.ts';
import { STREAM_ERROR_CODES } from './codes/stream.ts';
import { TRAIN_ERROR_CODES } from './codes/train.ts';

export const ERROR_CODES = [
  ...CORE_ERROR_CODES,
  ...BROKER_ERROR_CODES,
  ...STATS_ERROR_CODES,
  ...SIMULATOR_ERROR_CODES,
  ...REGISTRY_ERROR_CODES,
  ...STREAM_ERROR_CODES,
  ...DECISION_ERROR_CODES,
  ...GATEWAY_ERROR_CODES,
  ...ARCHIVE_ERROR_CODES,
  ...TRAIN_ERROR_CODES,
  ...SHADOW_ERROR_CODES,
  ...CDC_ERROR_CODES,
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN = new Set<string>(ERROR_CODES);

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === 'string' && KNOWN.has(value);
}

/**
 * An error a user can act on: a stable `code`, a message that says what was wrong, where, and how to fix it,
 * and optional structured `details` (the offending key, offset, field...).
 */
export class CroupierError extends Error {
  readonly code: ErrorCode;
  readonly details: Readonly<Record<string, unknown>> | undefined;

  constructor(
    code: ErrorCode,
    message: string,
    details?: Record<string, unknown>,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'CroupierError';
    this.code = code;
    this.details = details;
  }
}

export function hasCode(error: unknown, code: ErrorCode): error is CroupierError {
  return error instanceof CroupierError && error.code === code;
}
