/**
 * Recorded traffic as JSON lines, one event per line, in the order they happened:
 *
 *   {"kind":"meta","scenario":"steady-state","seed":7,"url":"ws://…","startedAt":"…"}
 *   {"kind":"request","t":12.5,"userId":"u00042","request":{"type":"carousel","requestId":"…","slots":5,…}}
 *   {"kind":"response","t":13.6,"userId":"u00042","response":{"type":"carousel","requestId":"…","items":[…],…}}
 *   {"kind":"feedback","t":13.7,"userId":"u00042","feedback":{"type":"feedback","requestId":"…","itemId":"…","kind":"click"}}
 *
 * `t` is milliseconds since the start of the recording. `croupier simulate --record` writes these files and
 * `croupier replay` reads them.
 */
import { createWriteStream, readFileSync, type WriteStream } from 'node:fs';
import type {
  CarouselMessage,
  CarouselRequestMessage,
  FeedbackMessage,
} from '../../src/domain/protocol-messages.ts';
import { CroupierError } from '../../src/errors/index.ts';

export type RecordedEvent =
  | { kind: 'meta'; scenario: string; seed: number; url: string; startedAt: string }
  | { kind: 'request'; t: number; userId: string; request: CarouselRequestMessage }
  | { kind: 'response'; t: number; userId: string; response: CarouselMessage }
  | { kind: 'feedback'; t: number; userId: string; feedback: FeedbackMessage };

export interface RecordingWriter {
  write(event: RecordedEvent): void;
  close(): Promise<void>;
}

export function createRecordingWriter(file: string): RecordingWriter {
  const stream: WriteStream = createWriteStream(file, { flags: 'w' });
  return {
    write: (event) => {
      stream.write(`${JSON.stringify(event)}\n`);
    },
    close: () =>
      new Promise((resolve, reject) =>
        stream.end((error?: Error | null) => (error ? reject(error) : resolve())),
      ),
  };
}

export function readRecording(file: string): RecordedEvent[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (cause) {
    throw new CroupierError(
      'CROUPIER_ERR_RECORDING_INVALID',
      `cannot read recording ${file}`,
      { file },
      { cause },
    );
  }
  const events: RecordedEvent[] = [];
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i].trim();
    if (line === '') continue;
    let event: RecordedEvent;
    try {
      event = JSON.parse(line) as RecordedEvent;
    } catch (cause) {
      throw new CroupierError(
        'CROUPIER_ERR_RECORDING_INVALID',
        `${file}:${i + 1} is not JSON; record with croupier simulate --record FILE`,
        { file, line: i + 1 },
        { cause },
      );
    }
    if (!['meta', 'request', 'response', 'feedback'].includes(event.kind)) {
      throw new CroupierError(
        'CROUPIER_ERR_RECORDING_INVALID',
        `${file}:${i + 1}: unknown kind '${event.kind}'`,
        {
          file,
          line: i + 1,
        },
      );
    }
    events.push(event);
  }
  return events;
}
