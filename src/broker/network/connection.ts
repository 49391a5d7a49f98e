/**
 * One client connection: splits the byte stream into size-prefixed frames, decodes each request with its
 * version's codec, runs the handler and writes the response. Requests are processed one at a time, so
 * responses leave in request order; a long-polling Fetch (or a JoinGroup in its barrier) holds only this
 * connection. Anything the protocol has no error for (unknown API, bad frame, truncated body) closes the
 * connection with a log line; nothing here can take the broker down.
 */
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { apiVersionsV0 } from '../apis/api-versions/v0.ts';
import { findCodec, isKnownApiKey } from '../apis/registry.ts';
import type { Broker } from '../broker.ts';
import type { RequestContext } from '../broker-state.ts';
import { ApiKey } from '../protocol/api-keys.ts';
import { DecodeError, Decoder } from '../protocol/decoder.ts';
import { Encoder } from '../protocol/encoder.ts';
import { ErrorCode } from '../protocol/error-codes.ts';
import type { FrameBudget, FrameHolder } from './frame-budget.ts';
import { MAX_REQUEST_ENTRIES, requestEntries } from './request-limits.ts';

export interface ConnectionOptions {
  maxFrameBytes: number;
  /** The memory all connections' frames may hold together (frame-budget.ts). */
  frameBudget: FrameBudget;
  /** Stop reading while this many response bytes wait in the socket. */
  maxPendingWriteBytes: number;
}

/** Request frames queued before the connection stops reading. */
const MAX_QUEUED_FRAMES = 64;

export class ProtocolViolation extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProtocolViolation';
  }
}

export class Connection implements FrameHolder {
  private readonly socket: Socket;
  private readonly broker: Broker;
  private readonly baseLogger: Logger;
  private childLogger: Logger | null = null;
  private readonly options: ConnectionOptions;
  /** The frame being filled, when it spans socket chunks. */
  private partial: Buffer | null = null;
  private filled = 0;
  /** A size prefix split across chunks. */
  private readonly header = Buffer.alloc(4);
  private headerFill = 0;
  private readonly queue: Buffer[] = [];
  /** Frames copied out of socket chunks (their bytes count against the frame budget until handled). */
  private readonly budgeted = new WeakSet<Buffer>();
  private busy = false;
  private closed = false;
  private readonly closeCallbacks = new Set<() => void>();
  private readonly clientHost: string;
  private pausedForWrites = false;
  onClosed: (() => void) | null = null;

  constructor(socket: Socket, broker: Broker, logger: Logger, options: ConnectionOptions) {
    this.socket = socket;
    this.broker = broker;
    this.options = options;
    this.clientHost = `/${socket.remoteAddress ?? 'unknown'}`;
    this.baseLogger = logger;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      try {
        this.onData(chunk);
      } catch (error) {
        this.failWith(error);
      }
    });
    socket.on('error', (error) => {
      this.logger.debug({ err: error.message }, 'connection error');
      this.close();
    });
    socket.on('close', () => this.close());
    socket.on('end', () => socket.end());
    socket.on('drain', () => {
      if (this.pausedForWrites) {
        this.pausedForWrites = false;
        this.maybeResume();
      }
    });
  }

  /** Created on first use: most connections never log. */
  private get logger(): Logger {
    this.childLogger ??= this.baseLogger.child({
      client: `${this.socket.remoteAddress}:${this.socket.remotePort}`,
    });
    return this.childLogger;
  }

  /**
   * Framing: a frame that lies inside one socket chunk is a view of it; a larger one is copied once into a
   * buffer of its exact size as its chunks arrive.
   */
  private onData(chunk: Buffer): void {
    if (this.closed) return;
    let at = 0;
    const end = chunk.length;
    while (at < end) {
      if (this.partial) {
        const n = Math.min(end - at, this.partial.length - this.filled);
        chunk.copy(this.partial, this.filled, at, at + n);
        this.filled += n;
        at += n;
        const frame = this.partial;
        this.options.frameBudget.add(this, n);
        if (this.closed) return;
        if (this.filled === frame.length) {
          this.budgeted.add(frame);
          this.queue.push(frame);
          this.partial = null;
        }
        continue;
      }
      let size: number;
      if (this.headerFill > 0 || end - at < 4) {
        const n = Math.min(4 - this.headerFill, end - at);
        chunk.copy(this.header, this.headerFill, at, at + n);
        this.headerFill += n;
        at += n;
        if (this.headerFill < 4) break;
        this.headerFill = 0;
        size = this.header.readInt32BE(0);
      } else {
        size = chunk.readInt32BE(at);
        at += 4;
      }
      if (size < 0 || size > this.options.maxFrameBytes) {
        this.fail(`frame size ${size} outside 0..${this.options.maxFrameBytes}`);
        return;
      }
      if (end - at >= size) {
        this.queue.push(chunk.subarray(at, at + size));
        at += size;
      } else {
        this.partial = Buffer.allocUnsafe(size);
        this.filled = 0;
      }
    }
    if (this.queue.length >= MAX_QUEUED_FRAMES) this.socket.pause();
    this.pump();
  }

  private pump(): void {
    while (!this.busy && !this.closed && this.queue.length > 0) {
      const frame = this.queue.shift()!;
      if (this.budgeted.has(frame)) this.options.frameBudget.release(this, frame.length);
      let result: Buffer[] | null | Promise<Buffer[] | null>;
      try {
        result = this.process(frame);
      } catch (error) {
        this.failWith(error);
        return;
      }
      if (result instanceof Promise) {
        this.busy = true;
        result.then(
          (chunks) => {
            this.busy = false;
            if (chunks) this.write(chunks);
            this.maybeResume();
            this.pump();
          },
          (error) => this.failWith(error),
        );
        return;
      }
      if (result) this.write(result);
    }
    this.maybeResume();
  }

  private maybeResume(): void {
    if (this.closed || this.pausedForWrites) return;
    if (this.queue.length < MAX_QUEUED_FRAMES && this.socket.isPaused()) this.socket.resume();
  }

  /** Decodes and handles one request; returns the encoded response (or null for none). */
  private process(frame: Buffer): Buffer[] | null | Promise<Buffer[] | null> {
    const d = new Decoder(frame);
    const apiKey = d.int16();
    const apiVersion = d.int16();
    const correlationId = d.int32();
    if (!isKnownApiKey(apiKey)) throw new ProtocolViolation(`unknown API key ${apiKey}`);
    const codec = findCodec(apiKey, apiVersion);
    if (!codec) {
      if (apiKey === ApiKey.ApiVersions) {
        // Kafka answers an ApiVersions version it does not know with UNSUPPORTED_VERSION in the v0 body.
        const e = this.frameEncoder(correlationId);
        apiVersionsV0.encodeResponse(e, this.broker.apiVersions(ErrorCode.UNSUPPORTED_VERSION));
        return this.finish(e);
      }
      throw new ProtocolViolation(`unsupported version ${apiVersion} of API key ${apiKey}`);
    }
    const clientId = d.nullableString() ?? '';
    if (codec.flexible) d.taggedFields();
    const request = codec.decodeRequest(d);
    const entries = requestEntries(request);
    if (entries > MAX_REQUEST_ENTRIES) {
      throw new ProtocolViolation(
        `request (API key ${apiKey}) lists ${entries} topic and partition entries, more than ${MAX_REQUEST_ENTRIES}`,
      );
    }
    const ctx: RequestContext = {
      apiVersion,
      clientId,
      clientHost: this.clientHost,
      onClose: (cb) => {
        this.closeCallbacks.add(cb);
        return () => this.closeCallbacks.delete(cb);
      },
    };
    const encode = (response: unknown): Buffer[] | null => {
      if (response === null || this.closed) return null;
      const e = this.frameEncoder(correlationId);
      codec.encodeResponse(e, response);
      return this.finish(e);
    };
    const response = this.broker.handle(apiKey, request, ctx);
    if (response instanceof Promise) return response.then(encode);
    return encode(response);
  }

  /** Response header v0 (correlation id) after a reserved size prefix. */
  private frameEncoder(correlationId: number): Encoder {
    const e = new Encoder(256);
    e.int32(0).int32(correlationId);
    return e;
  }

  private finish(e: Encoder): Buffer[] {
    e.patchInt32(0, e.length - 4);
    return e.toChunks();
  }

  private write(chunks: Buffer[]): void {
    if (this.closed) return;
    if (chunks.length === 1) {
      this.socket.write(chunks[0]!);
    } else {
      this.socket.cork();
      for (const c of chunks) this.socket.write(c);
      this.socket.uncork();
    }
    if (this.socket.writableLength > this.options.maxPendingWriteBytes && !this.pausedForWrites) {
      this.pausedForWrites = true;
      this.socket.pause();
    }
  }

  private failWith(error: unknown): void {
    if (error instanceof DecodeError || error instanceof ProtocolViolation) {
      this.fail(error.message);
    } else {
      this.logger.error({ err: error }, 'request handler failed; closing the connection');
      this.close();
    }
  }

  private fail(reason: string): void {
    if (this.baseLogger.isLevelEnabled('warn')) {
      this.logger.warn({ reason }, 'closing connection: malformed or unsupported request');
    }
    this.close();
  }

  /** Closed by the frame budget: frames of all connections hold too much, this one the most. */
  evict(reason: string): void {
    if (this.baseLogger.isLevelEnabled('warn')) this.logger.warn({ reason }, 'closing connection');
    this.close();
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.queue.length = 0;
    this.partial = null;
    this.options.frameBudget.releaseAll(this);
    this.socket.destroy();
    for (const cb of [...this.closeCallbacks]) cb();
    this.closeCallbacks.clear();
    this.onClosed?.();
  }
}
