/**
 * One simulated device talking to the gateway over a real WebSocket, as a client application would:
 * `hello`, then `carousel` requests answered by request id, then `feedback` for what the user did. The
 * messages are the protocol's own types (src/domain/protocol-messages.ts).
 */
import type {
  CarouselMessage,
  CarouselRequestMessage,
  ClientContext,
  ClientMessage,
  ErrorMessage,
  ServerMessage,
} from '../../src/domain/protocol-messages.ts';
import { CroupierError } from '../../src/errors/index.ts';
import { connectRaw, type RawWebSocket } from '../../src/ws-client/raw-client.ts';

export interface GatewayClientOptions {
  url: string;
  timeoutMs?: number;
  /** Every message out and in (for recordings, which also ask for each carousel's propensities). */
  onTraffic?: (direction: 'out' | 'in', message: string) => void;
}

export class GatewayClient {
  private readonly pending = new Map<string, (reply: CarouselMessage | ErrorMessage) => void>();
  private welcome: ((reply: ServerMessage) => void) | null = null;
  acks = 0;
  errors = 0;
  /** Set once the connection is gone; every later call fails at once. */
  closed = false;

  private constructor(
    private readonly options: GatewayClientOptions,
    private socket: RawWebSocket | null,
  ) {}

  static async connect(options: GatewayClientOptions): Promise<GatewayClient> {
    const client = new GatewayClient(options, null);
    client.socket = await connectRaw({
      url: options.url,
      onMessage: (m) => client.onMessage(m),
      onClose: () => client.onClose(),
    });
    return client;
  }

  private onClose(): void {
    this.closed = true;
    const lost: ErrorMessage = {
      type: 'error',
      code: 'CONNECTION_LOST',
      message: 'the connection closed',
      requestId: null,
    };
    for (const resolve of this.pending.values()) resolve(lost);
    this.pending.clear();
    this.welcome?.(lost);
    this.welcome = null;
  }

  private onMessage(buffer: Buffer): void {
    const text = buffer.toString();
    this.options.onTraffic?.('in', text);
    let message: ServerMessage;
    try {
      message = JSON.parse(text) as ServerMessage;
    } catch {
      this.errors++;
      return;
    }
    switch (message.type) {
      case 'welcome':
        this.welcome?.(message);
        this.welcome = null;
        return;
      case 'feedback-ack':
        this.acks++;
        return;
      case 'carousel':
      case 'error': {
        if (message.type === 'error') this.errors++;
        const id = message.requestId;
        const resolve = id === null ? undefined : this.pending.get(id);
        if (resolve !== undefined && id !== null) {
          this.pending.delete(id);
          resolve(message);
        } else if (message.type === 'error' && this.welcome !== null) {
          this.welcome(message);
          this.welcome = null;
        }
        return;
      }
      default:
        return;
    }
  }

  send(message: ClientMessage): void {
    if (this.closed) return;
    const text = JSON.stringify(message);
    this.options.onTraffic?.('out', text);
    this.socket?.send(text);
  }

  private timeout<T>(what: string, promise: Promise<T>): Promise<T> {
    const ms = this.options.timeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    return Promise.race([
      promise,
      new Promise<T>((_, reject) => {
        timer = setTimeout(
          () =>
            reject(
              new CroupierError(
                'CROUPIER_ERR_SIM_GATEWAY',
                `the gateway did not answer ${what} within ${ms} ms`,
                {
                  url: this.options.url,
                },
              ),
            ),
          ms,
        );
      }),
    ]).finally(() => clearTimeout(timer));
  }

  /** Says who the user is; `token` is the signed client token a gateway with auth on requires. */
  async hello(userId: string, context?: ClientContext, token?: string): Promise<void> {
    if (this.closed) {
      throw new CroupierError('CROUPIER_ERR_SIM_GATEWAY', 'the connection to the gateway is closed', {
        url: this.options.url,
      });
    }
    const reply = new Promise<ServerMessage>((resolve) => {
      this.welcome = resolve;
    });
    // A recording asks for the propensities in the carousels: replaying it estimates off-policy from them.
    const propensities = this.options.onTraffic !== undefined;
    this.send({
      type: 'hello',
      userId,
      ...(token !== undefined ? { token } : {}),
      ...(context ? { context } : {}),
      // ... and the candidate sets of the carousels that log them, which shadow tests replay policies on.
      ...(propensities ? { propensities, candidates: true } : {}),
    });
    const message = await this.timeout('hello', reply);
    if (message.type === 'error') {
      throw new CroupierError('CROUPIER_ERR_SIM_GATEWAY', `the gateway refused hello: ${message.message}`, {
        code: message.code,
      });
    }
  }

  carousel(request: Omit<CarouselRequestMessage, 'type'>): Promise<CarouselMessage | ErrorMessage> {
    if (this.closed) {
      return Promise.resolve({
        type: 'error',
        code: 'CONNECTION_LOST',
        message: 'the connection closed',
        requestId: null,
      });
    }
    const reply = new Promise<CarouselMessage | ErrorMessage>((resolve) => {
      this.pending.set(request.requestId, resolve);
    });
    this.send({ type: 'carousel', ...request });
    return this.timeout(`carousel ${request.requestId}`, reply).catch((error) => {
      this.pending.delete(request.requestId);
      throw error;
    });
  }

  async close(): Promise<void> {
    await this.socket?.close();
  }
}
