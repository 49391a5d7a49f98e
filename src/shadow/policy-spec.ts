/**
 * Candidate policies of a shadow test, written as `key=value` lists: `policy=greedy`,
 * `policy=thompson,priorStrength=50`, `policy=thompson,model=default-2`, `policy=epsilon-greedy,epsilon=0.05`.
 *
 * Keys: `policy` (thompson, greedy, ucb1, epsilon-greedy, random or its alias uniform; required), `priorStrength`
 * (m > 0), `temperature` (τ₀ in (0, 1]), `temperingImpressions` (n₀ > 0), `epsilon` ([0, 1]), `ucbC` (≥ 0),
 * `model` (a model version the log holds shadow scores of), `label` (the name in the report). A setting left
 * out takes the value the logging decision used (logged with its candidate set).
 */
import { isPolicyName, POLICY_NAMES, type PolicyName } from '../domain/policy-names.ts';
import { CroupierError } from '../errors/index.ts';

export interface CandidateSpec {
  /** The name of the candidate in reports: `label=` or the spec text itself. */
  label: string;
  policy: PolicyName;
  priorStrength?: number;
  temperature?: number;
  temperingImpressions?: number;
  epsilon?: number;
  ucbC?: number;
  /** Score the candidates with this model version's logged shadow scores instead of the serving model's. */
  model?: string;
}

const NUMERIC = {
  priorStrength: (x: number) => x > 0,
  temperature: (x: number) => x > 0 && x <= 1,
  temperingImpressions: (x: number) => x > 0,
  epsilon: (x: number) => x >= 0 && x <= 1,
  ucbC: (x: number) => x >= 0,
} as const;
const RANGES: Record<keyof typeof NUMERIC, string> = {
  priorStrength: 'a number > 0',
  temperature: 'a number in (0, 1]',
  temperingImpressions: 'a number > 0',
  epsilon: 'a number in [0, 1]',
  ucbC: 'a number ≥ 0',
};
const KEYS = ['policy', 'model', 'label', ...Object.keys(NUMERIC)];

function specError(spec: string, problem: string): never {
  throw new CroupierError(
    'CROUPIER_ERR_SHADOW_SPEC',
    `candidate '${spec}': ${problem}; write it as policy=<${POLICY_NAMES.join('|')}|uniform>[,priorStrength=50][,model=<version>]…`,
    { spec },
  );
}

/** Parses one candidate spec, refusing an unknown key, policy or out-of-range value with what was wrong. */
export function parseCandidateSpec(text: string): CandidateSpec {
  const spec = text.trim();
  if (spec === '') specError(text, 'it is empty');
  const fields = new Map<string, string>();
  for (const part of spec.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) specError(spec, `'${part}' is not key=value`);
    const key = part.slice(0, eq).trim();
    const value = part.slice(eq + 1).trim();
    if (!KEYS.includes(key)) specError(spec, `unknown key '${key}' (known: ${KEYS.join(', ')})`);
    if (fields.has(key)) specError(spec, `'${key}' is given twice`);
    if (value === '') specError(spec, `'${key}' has no value`);
    fields.set(key, value);
  }
  const named = fields.get('policy');
  if (named === undefined) specError(spec, 'it names no policy');
  const policy = named === 'uniform' ? 'random' : named;
  if (!isPolicyName(policy)) specError(spec, `unknown policy '${named}'`);
  const out: CandidateSpec = { label: fields.get('label') ?? spec, policy };
  for (const key of Object.keys(NUMERIC) as (keyof typeof NUMERIC)[]) {
    const raw = fields.get(key);
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!(Number.isFinite(value) && NUMERIC[key](value))) {
      specError(spec, `${key} must be ${RANGES[key]}, got '${raw}'`);
    }
    out[key] = value;
  }
  const model = fields.get('model');
  if (model !== undefined) out.model = model;
  return out;
}
