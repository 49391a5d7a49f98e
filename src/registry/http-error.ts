/**
 * The registry's HTTP errors, in Confluent Schema Registry's shape: an HTTP status plus a body
 * `{"error_code": <number>, "message": <string>}`. The numeric codes are Confluent's, so clients that
 * branch on them (40401 subject not found, 409 incompatible, ...) behave as against the real registry.
 */
export const REGISTRY_HTTP_ERRORS = {
  BAD_REQUEST: { status: 400, errorCode: 400 },
  ROUTE_NOT_FOUND: { status: 404, errorCode: 404 },
  METHOD_NOT_ALLOWED: { status: 405, errorCode: 405 },
  PAYLOAD_TOO_LARGE: { status: 413, errorCode: 413 },
  SUBJECT_NOT_FOUND: { status: 404, errorCode: 40401 },
  VERSION_NOT_FOUND: { status: 404, errorCode: 40402 },
  SCHEMA_NOT_FOUND: { status: 404, errorCode: 40403 },
  SUBJECT_SOFT_DELETED: { status: 404, errorCode: 40404 },
  SUBJECT_NOT_SOFT_DELETED: { status: 404, errorCode: 40405 },
  VERSION_SOFT_DELETED: { status: 404, errorCode: 40406 },
  VERSION_NOT_SOFT_DELETED: { status: 404, errorCode: 40407 },
  SUBJECT_CONFIG_NOT_FOUND: { status: 404, errorCode: 40408 },
  INCOMPATIBLE_SCHEMA: { status: 409, errorCode: 409 },
  INVALID_SCHEMA: { status: 422, errorCode: 42201 },
  INVALID_VERSION: { status: 422, errorCode: 42202 },
  INVALID_COMPATIBILITY_LEVEL: { status: 422, errorCode: 42203 },
  INTERNAL: { status: 500, errorCode: 50001 },
} as const;

export type RegistryHttpErrorKind = keyof typeof REGISTRY_HTTP_ERRORS;

/** Thrown by route handlers; the server turns it into the Confluent error response. */
export class RegistryHttpError extends Error {
  readonly kind: RegistryHttpErrorKind;
  readonly status: number;
  readonly errorCode: number;

  constructor(kind: RegistryHttpErrorKind, message: string) {
    super(message);
    this.name = 'RegistryHttpError';
    this.kind = kind;
    this.status = REGISTRY_HTTP_ERRORS[kind].status;
    this.errorCode = REGISTRY_HTTP_ERRORS[kind].errorCode;
  }

  toBody(): { error_code: number; message: string } {
    return { error_code: this.errorCode, message: this.message };
  }
}
