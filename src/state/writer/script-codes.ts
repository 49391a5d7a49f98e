/**
 * The one place where the return codes of the state scripts become outcomes and errors. Scripts return
 * `{code, value}`: codes >= 0 are outcomes of the exactly-once check, negative codes are errors.
 */
import { CroupierError, type ErrorCode } from '../../errors/index.ts';

export type ApplyOutcome =
  /** The batch was applied; `offset` is now stored. */
  | { status: 'applied'; offset: number }
  /** Every record was applied before (a redelivery after a crash or rebalance); nothing changed. */
  | { status: 'duplicate'; offset: number }
  /** The stored offset is not the one the batch continued from: fold again from `offset + 1`. */
  | { status: 'moved'; offset: number };

const OUTCOMES: Record<number, ApplyOutcome['status']> = { 1: 'applied', 0: 'duplicate', 2: 'moved' };

const ERRORS: Record<number, { code: ErrorCode; message: (value: string) => string }> = {
  [-1]: {
    code: 'CROUPIER_ERR_STREAM_SCRIPT_PAYLOAD',
    message: (value) => `the state script could not read its payload (${value}); this is a bug in croupier`,
  },
  [-2]: {
    code: 'CROUPIER_ERR_STREAM_OFFSET_CORRUPT',
    message: (value) =>
      `the stored offset ${JSON.stringify(value)} is not a number; delete the offsets field of this consumer group to refold the partition`,
  },
  [-3]: {
    code: 'CROUPIER_ERR_STREAM_STATE_KEY_TYPE',
    message: (value) =>
      `the key ${JSON.stringify(value)} of a record in the batch holds another type than croupier writes there (something else wrote it); nothing of the batch was written, and the record is dead-lettered`,
  },
  [-4]: {
    code: 'CROUPIER_ERR_STREAM_PARTITION_KEY_TYPE',
    message: (value) =>
      `the partition's key ${JSON.stringify(value)} holds another type than croupier writes there (something else wrote it); nothing was written and the partition waits. Delete the key and the partition's offsets field to refold it, or give croupier its own redis.keyPrefix`,
  },
};

/** Turns a script's reply into an outcome, or throws the CroupierError its negative code stands for. */
export function scriptOutcome(
  script: string,
  reply: unknown,
  details: Record<string, unknown>,
): ApplyOutcome {
  if (!Array.isArray(reply) || reply.length !== 2 || typeof reply[0] !== 'number') {
    throw new CroupierError(
      'CROUPIER_ERR_STREAM_SCRIPT_CODE',
      `script ${script} returned ${JSON.stringify(reply)}; the Lua files and the code are from different versions`,
      details,
    );
  }
  const [code, value] = reply as [number, unknown];
  const status = OUTCOMES[code];
  if (status !== undefined) return { status, offset: Number(value) };
  const error = ERRORS[code];
  if (error !== undefined) {
    throw new CroupierError(error.code, `${script}: ${error.message(String(value))}`, { ...details, value });
  }
  throw new CroupierError(
    'CROUPIER_ERR_STREAM_SCRIPT_CODE',
    `script ${script} returned the unknown code ${code}; the Lua files and the code are from different versions`,
    details,
  );
}
