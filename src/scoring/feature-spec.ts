/**
 * The feature spec: the ordered list of model inputs that serving (`features.ts`) and training share. A spec
 * entry names one column, a one-hot group that expands to one column per value (plus `other`), or the cross of
 * two one-hot groups (one column per pair of their columns). The hash (sha256 of the canonical JSON) ties a model
 * in the registry to the spec it was trained on.
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { readJsonFile } from '../config/read-json-file.ts';
import { CroupierError } from '../errors/index.ts';

const name = z.string().regex(/^[a-z][a-z0-9_.]*$/, 'lower-case dotted name, e.g. item.ctr_logit');
const prior = {
  priorClicks: z.number().nonnegative().default(1),
  priorImpressions: z.number().positive().default(20),
};

export const NUMERIC_SOURCES = [
  'user.impressions',
  'user.clicks',
  'user.conversions',
  'user.watchMs',
  'item.impressions',
  'item.clicks',
  'item.conversions',
  'item.conversionValue',
  'item.watchMs',
  'item.decayedCtr',
] as const;
export type NumericSource = (typeof NUMERIC_SOURCES)[number];

export const CATEGORICAL_SOURCES = [
  'user.segment',
  'user.country',
  'item.category',
  'context.device',
  'context.country',
  'context.page',
] as const;
export type CategoricalSource = (typeof CATEGORICAL_SOURCES)[number];

const featureSchema = z.discriminatedUnion('kind', [
  /** log(1 + value / scale). */
  z.object({
    kind: z.literal('log1p'),
    name,
    source: z.enum(NUMERIC_SOURCES),
    scale: z.number().positive().default(1),
  }),
  /** The raw value. */
  z.object({ kind: z.literal('value'), name, source: z.enum(NUMERIC_SOURCES) }),
  /** Smoothed click-through rate (clicks + a) / (impressions + a + b), a + b = priorImpressions. */
  z.object({ kind: z.literal('ctr'), name, source: z.enum(['user', 'item']), ...prior }),
  /** The logit of the smoothed click-through rate. */
  z.object({ kind: z.literal('ctr_logit'), name, source: z.enum(['user', 'item']), ...prior }),
  /** 1 when true, else 0 (`user.known`: the user has a record; `user.subscribed`: null counts as 0). */
  z.object({ kind: z.literal('flag'), name, source: z.enum(['user.known', 'user.subscribed']) }),
  /** log(1 + age in days) of the item at decision time. */
  z.object({ kind: z.literal('age_days_log1p'), name, source: z.literal('item.createdAt') }),
  /** One column per value (`<name>=<value>`), plus `<name>=other` when `other` is set. */
  z.object({
    kind: z.literal('onehot'),
    name,
    source: z.enum(CATEGORICAL_SOURCES),
    values: z.array(z.string().min(1)).min(1),
    other: z.boolean().default(true),
  }),
  /**
   * User × item affinity: `recent.category` is the share of the user's recent clicks whose item has the
   * candidate's category; `recent.item` is 1 when the candidate is among the user's recent clicks.
   */
  z.object({ kind: z.literal('affinity'), name, source: z.enum(['recent.category', 'recent.item']) }),
  /**
   * The interaction of two one-hot groups listed before it (e.g. `user.segment` × `item.category`): one column per
   * pair of their columns, `<name>=<a>&<b>` (`other` pairs like any value), 1 for the pair the row has. A linear
   * model learns a weight per pair: how a segment takes to a category, which neither group's own weights can say.
   */
  z.object({ kind: z.literal('cross'), name, features: z.tuple([name, name]) }),
]);

export const featureSpecSchema = z
  .object({
    name: z.string().min(1),
    version: z.number().int().positive(),
    /** Name of the model's input tensor, float32 [batch, columns]. */
    input: z.string().min(1).default('features'),
    /** Name of the model's output tensor, float32 [batch, 1] (or [batch]) of click probabilities. */
    output: z.string().min(1).default('p_click'),
    features: z.array(featureSchema).min(1),
  })
  .strict()
  .superRefine((spec, ctx) => {
    const seen = new Set<string>();
    spec.features.forEach((feature, index) => {
      if (seen.has(feature.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['features', index, 'name'],
          message: 'duplicate feature name',
        });
      }
      seen.add(feature.name);
      if (feature.kind === 'onehot' && new Set(feature.values).size !== feature.values.length) {
        ctx.addIssue({ code: 'custom', path: ['features', index, 'values'], message: 'duplicate value' });
      }
      if (feature.kind === 'cross') {
        feature.features.forEach((crossed, k) => {
          const earlier = spec.features.slice(0, index).find((f) => f.name === crossed);
          if (earlier?.kind !== 'onehot') {
            ctx.addIssue({
              code: 'custom',
              path: ['features', index, 'features', k],
              message: `'${crossed}' is not a one-hot feature listed before this cross`,
            });
          }
        });
        if (feature.features[0] === feature.features[1]) {
          ctx.addIssue({
            code: 'custom',
            path: ['features', index, 'features'],
            message: 'a feature crossed with itself',
          });
        }
      }
    });
  });

export type FeatureDefinition = z.infer<typeof featureSchema>;
type ParsedSpec = z.infer<typeof featureSpecSchema>;

export interface FeatureSpec extends ParsedSpec {
  /** Column names in model order (one-hot groups expanded). */
  readonly columns: readonly string[];
  /** Number of columns, the model's input width. */
  readonly width: number;
  /** `sha256:<hex>` of the canonical JSON of the parsed spec. */
  readonly hash: string;
}

export type OneHotDefinition = Extract<FeatureDefinition, { kind: 'onehot' }>;
export type CrossDefinition = Extract<FeatureDefinition, { kind: 'cross' }>;

/** The values a one-hot group has a column for, `other` last when set. */
export function oneHotValues(feature: OneHotDefinition): string[] {
  return feature.other ? [...feature.values, 'other'] : [...feature.values];
}

/** The two one-hot groups a cross names, from the spec's definitions (the spec was validated: both exist). */
export function crossedGroups(
  feature: CrossDefinition,
  features: readonly FeatureDefinition[],
): [OneHotDefinition, OneHotDefinition] {
  const find = (crossed: string) =>
    features.find((f): f is OneHotDefinition => f.kind === 'onehot' && f.name === crossed)!;
  return [find(feature.features[0]), find(feature.features[1])];
}

/** Column names a definition expands to; `features` (the spec's definitions) resolves a cross. */
export function columnsOf(feature: FeatureDefinition, features: readonly FeatureDefinition[]): string[] {
  if (feature.kind === 'onehot') return oneHotValues(feature).map((value) => `${feature.name}=${value}`);
  if (feature.kind === 'cross') {
    const [a, b] = crossedGroups(feature, features);
    const second = oneHotValues(b);
    return oneHotValues(a).flatMap((x) => second.map((y) => `${feature.name}=${x}&${y}`));
  }
  return [feature.name];
}

/** JSON with object keys sorted, so the hash does not depend on key order or formatting. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function featureSpecHash(spec: ParsedSpec): string {
  return `sha256:${createHash('sha256').update(canonicalJson(spec)).digest('hex')}`;
}

/**
 * Most columns a spec may expand to. Every shown item's row is logged with its carousel (4 bytes a column), and a
 * cross multiplies its groups' widths, so a spec past this is a mistake, refused before anything is allocated.
 */
export const MAX_COLUMNS = 4096;

/** Validates a parsed JSON value as a feature spec; the result is frozen. */
export function parseFeatureSpec(value: unknown, origin = 'feature spec'): FeatureSpec {
  const parsed = featureSpecSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.') || '(root)';
    throw new CroupierError(
      'CROUPIER_ERR_FEATURE_SPEC_INVALID',
      `${origin}: ${where}: ${issue.message}; fix the spec (see docs/decision.md, "Feature spec")`,
      { origin, path: where, issues: parsed.error.issues.length },
    );
  }
  const features = parsed.data.features;
  const widths = features.map((feature) =>
    feature.kind === 'onehot'
      ? oneHotValues(feature).length
      : feature.kind === 'cross'
        ? crossedGroups(feature, features).reduce((product, group) => product * oneHotValues(group).length, 1)
        : 1,
  );
  const width = widths.reduce((sum, w) => sum + w, 0);
  if (width > MAX_COLUMNS) {
    const widest = widths.indexOf(Math.max(...widths));
    throw new CroupierError(
      'CROUPIER_ERR_FEATURE_SPEC_INVALID',
      `${origin}: the spec expands to ${width} columns, more than ${MAX_COLUMNS} (the widest, features.${widest} '${features[widest].name}', has ${widths[widest]}); list fewer one-hot values or cross smaller groups`,
      { origin, path: `features.${widest}`, issues: 1 },
    );
  }
  const columns = features.flatMap((feature) => columnsOf(feature, features));
  return Object.freeze({
    ...parsed.data,
    columns: Object.freeze(columns),
    width: columns.length,
    hash: featureSpecHash(parsed.data),
  });
}

/** Reads and validates a feature spec file. */
export async function loadFeatureSpec(path: string): Promise<FeatureSpec> {
  const json = await readJsonFile(path, {
    code: 'CROUPIER_ERR_FEATURE_SPEC_INVALID',
    what: 'the feature spec',
  });
  return parseFeatureSpec(json, path);
}
