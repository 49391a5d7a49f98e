/**
 * One codec per API version: decodes that version's request body and encodes its response body over the
 * shared Decoder/Encoder. The request and response shapes are shared by all versions of an API (fields a
 * version lacks are read as defaults and not written).
 */
import type { Decoder } from '../protocol/decoder.ts';
import type { Encoder } from '../protocol/encoder.ts';

export interface Codec<Req = unknown, Res = unknown> {
  readonly apiKey: number;
  readonly version: number;
  /** Flexible version: request header v2 and tagged fields (only ApiVersions v3 here). */
  readonly flexible: boolean;
  decodeRequest(d: Decoder): Req;
  encodeResponse(e: Encoder, response: Res): void;
}

export function codec<Req, Res>(
  apiKey: number,
  version: number,
  decodeRequest: (d: Decoder) => Req,
  encodeResponse: (e: Encoder, response: Res) => void,
  flexible = false,
): Codec<Req, Res> {
  return { apiKey, version, flexible, decodeRequest, encodeResponse };
}

/** The same wire layout under another version number (the version changed semantics only). */
export function sameLayout<Req, Res>(base: Codec<Req, Res>, version: number): Codec<Req, Res> {
  return { ...base, version };
}

/** `topic → partitions` entries; the common shape of most requests and responses. */
export interface TopicPartitions<P> {
  name: string;
  partitions: P[];
}
