/**
 * Candidate policies of a shadow test, written as `key=value` lists: `policy=greedy`,
 * `policy=thompson,priorStrength=50`, `policy=thompson,model=default-2`, `policy=epsilon-greedy,epsilon=0.05`.
 *
 * Keys: `policy` (thompson, greedy, ucb1, epsilon-greedy, random or its alias uniform; required), `priorStrength`
 * (m in [1e-6, 1e6]), `temperature` (τ₀ in [1e-6, 1]), `temperingImpressions` (n₀ in (0, 1e12]), `epsilon`
 * ([0, 1]), `ucbC` ([0, 1e6]), `model` (a model version the log holds shadow scores of), `label` (the name in the
 * report). A setting left out takes the value the logging decision used (logged with its candidate set).
 */
import { describeRange, inRange, type NumericRange, POLICY_LIMITS } from '../domain/limits.ts';
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

/**
 * The range of each numeric setting, for a candidate's spec and for the settings a logged decision recorded with
 * its candidate set. Thompson sampling's propensities are integrated over each Beta posterior, whose shapes are
 * about m·p̂/τ₀ (p̂ ≥ 1e-6): a prior strength or temperature of 1e-300, or a strength of 1e308, makes shapes near
 * 1e-300 or 1e308, which the integral never finishes. These ranges keep the shapes within about 1e-12 and 1e18.
 */
export const POLICY_SETTING_RANGES = Object.freeze({
  priorStrength: POLICY_LIMITS.priorStrength,
  temperature: POLICY_LIMITS.thompsonTemperature,
  temperingImpressions: { min: 0, max: 1e12, minExclusive: true },
  epsilon: { min: 0, max: 1 },
  ucbC: POLICY_LIMITS.ucbC,
} satisfies Record<string, NumericRange>);
export type PolicySetting = keyof typeof POLICY_SETTING_RANGES;
export const POLICY_SETTINGS = Object.keys(POLICY_SETTING_RANGES) as PolicySetting[];

const KEYS = ['policy', 'model', 'label', ...POLICY_SETTINGS];

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
  for (const key of POLICY_SETTINGS) {
    const raw = fields.get(key);
    if (raw === undefined) continue;
    const value = Number(raw);
    if (!inRange(value, POLICY_SETTING_RANGES[key])) {
      specError(
        spec,
        `${key} must be a number in ${describeRange(POLICY_SETTING_RANGES[key])}, got '${raw}'`,
      );
    }
    out[key] = value;
  }
  const model = fields.get('model');
  if (model !== undefined) out.model = model;
  return out;
}
