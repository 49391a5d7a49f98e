/**
 * Input checks shared by the statistics library: each throws a `CroupierError` with a stable
 * `CROUPIER_ERR_STATS_*` code and a message naming the offending argument.
 */
import { CroupierError } from '../errors/index.ts';

export type Sample = ArrayLike<number>;

export function invalidArgument(name: string, why: string, details: Record<string, unknown> = {}): never {
  throw new CroupierError('CROUPIER_ERR_STATS_INVALID_ARGUMENT', `${name} ${why}`, {
    argument: name,
    ...details,
  });
}

/** Every value finite (no NaN, no ±Infinity); at least `min` values. */
export function checkSample(name: string, x: Sample, min = 1): void {
  if (x === null || x === undefined || typeof x.length !== 'number') {
    invalidArgument(name, 'must be an array of numbers');
  }
  if (x.length === 0) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_EMPTY_SAMPLE',
      `${name} is empty: it needs at least ${min} value(s)`,
      {
        argument: name,
      },
    );
  }
  for (let i = 0; i < x.length; i++) {
    const v = x[i];
    if (typeof v !== 'number' || !Number.isFinite(v)) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_NAN',
        `${name}[${i}] is ${String(v)}: every value must be a finite number`,
        {
          argument: name,
          index: i,
        },
      );
    }
  }
  if (x.length < min) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_TOO_FEW',
      `${name} has ${x.length} value(s): it needs at least ${min}`,
      {
        argument: name,
        length: x.length,
        required: min,
      },
    );
  }
}

export function checkSameLength(nameA: string, a: Sample, nameB: string, b: Sample): void {
  if (a.length !== b.length) {
    throw new CroupierError(
      'CROUPIER_ERR_STATS_LENGTH_MISMATCH',
      `${nameA} has ${a.length} values but ${nameB} has ${b.length}: they must pair up one to one`,
      { argument: nameB, lengths: [a.length, b.length] },
    );
  }
}

/** A count: finite, non-negative. */
export function checkCounts(name: string, x: Sample): void {
  checkSample(name, x);
  for (let i = 0; i < x.length; i++) {
    if (x[i] < 0) {
      throw new CroupierError(
        'CROUPIER_ERR_STATS_NEGATIVE_COUNT',
        `${name}[${i}] is ${x[i]}: counts cannot be negative`,
        {
          argument: name,
          index: i,
        },
      );
    }
  }
}

export function checkFinite(name: string, v: number): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    throw new CroupierError('CROUPIER_ERR_STATS_NAN', `${name} is ${String(v)}: it must be a finite number`, {
      argument: name,
    });
  }
}

export function checkPositive(name: string, v: number): void {
  checkFinite(name, v);
  if (!(v > 0)) invalidArgument(name, `is ${v}: it must be greater than 0`);
}

export function checkProbability(name: string, v: number, open = false): void {
  checkFinite(name, v);
  if (open ? !(v > 0 && v < 1) : !(v >= 0 && v <= 1)) {
    invalidArgument(name, `is ${v}: it must lie in ${open ? '(0, 1)' : '[0, 1]'}`);
  }
}

export function zeroVariance(name: string): never {
  throw new CroupierError(
    'CROUPIER_ERR_STATS_ZERO_VARIANCE',
    `${name} has zero variance: the statistic is undefined when every value is the same`,
    { argument: name },
  );
}

export type Alternative = 'two-sided' | 'less' | 'greater';

export function checkAlternative(alternative: unknown): Alternative {
  if (alternative === undefined) return 'two-sided';
  if (alternative === 'two-sided' || alternative === 'less' || alternative === 'greater') return alternative;
  return invalidArgument('alternative', `is ${String(alternative)}: use 'two-sided', 'less' or 'greater'`);
}

export function checkConfidence(confidence: unknown): number {
  if (confidence === undefined) return 0.95;
  if (typeof confidence !== 'number' || !(confidence > 0 && confidence < 1)) {
    return invalidArgument('confidence', `is ${String(confidence)}: it must lie in (0, 1), e.g. 0.95`);
  }
  return confidence;
}
