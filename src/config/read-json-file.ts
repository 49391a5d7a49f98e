/**
 * Reads a JSON file: the one place croupier turns "read it, parse it" into an error a user can act on. A file
 * that is missing, cannot be read or is not valid JSON becomes a CroupierError with the caller's code (the
 * part's own, so `CROUPIER_ERR_FEATURE_SPEC_INVALID` still says which file kind failed), a message naming what
 * the file is, its path and what was wrong, and `details: { file, problem }`. Checking the parsed value's
 * shape stays with the caller.
 */
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { CroupierError, type ErrorCode } from '../errors/index.ts';

export interface JsonFileOptions {
  /** The code of the error thrown. */
  code: ErrorCode;
  /** What the file is, for the message: `'the feature spec'`, `'config file'`. */
  what: string;
  /** What to do about a file that is not valid JSON, appended to that message. */
  invalidHint?: string;
}

/** What went wrong, in `details.problem` of the error thrown. */
export type JsonFileProblem = 'missing' | 'unreadable' | 'invalid-json';

/** The parsed content of `file`; throws a CroupierError with `options.code` when it cannot be read or parsed. */
export function readJsonFileSync(file: string, options: JsonFileOptions): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadable(file, options, error);
  }
  return parseJsonText(text, file, options);
}

/** The parsed content of `file`; rejects with a CroupierError with `options.code` when it cannot be read or parsed. */
export async function readJsonFile(file: string, options: JsonFileOptions): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw unreadable(file, options, error);
  }
  return parseJsonText(text, file, options);
}

/** What was wrong when `error` was thrown by `readJsonFile`/`readJsonFileSync`; `undefined` for any other error. */
export function jsonFileProblem(error: unknown): JsonFileProblem | undefined {
  if (!(error instanceof CroupierError)) return undefined;
  const problem = error.details?.problem;
  return problem === 'missing' || problem === 'unreadable' || problem === 'invalid-json'
    ? problem
    : undefined;
}

function parseJsonText(text: string, file: string, options: JsonFileOptions): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const hint = options.invalidHint === undefined ? '' : `; ${options.invalidHint}`;
    const message = `${options.what} ${file} is not valid JSON: ${(error as Error).message}${hint}`;
    throw new CroupierError(options.code, message, { file, problem: 'invalid-json' }, { cause: error });
  }
}

function unreadable(file: string, options: JsonFileOptions, error: unknown): CroupierError {
  const problem: JsonFileProblem =
    (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'missing' : 'unreadable';
  const message = `cannot read ${options.what} ${file}: ${(error as Error).message}`;
  return new CroupierError(options.code, message, { file, problem }, { cause: error });
}
