/**
 * The experiments file: a global holdout, layers of mutually exclusive experiments, and variants that
 * override the serving policy and its parameters. Validated once with zod; every error names its path.
 *
 * ```json
 * {
 *   "holdout": { "salt": "holdout-1", "percent": 5 },
 *   "shadow": { "policy": "greedy" },
 *   "layers": [{
 *     "name": "ranking", "salt": "ranking-1",
 *     "experiments": [{
 *       "name": "ucb-vs-ts", "range": [0, 50],
 *       "variants": [{ "name": "control", "weight": 1 }, { "name": "ucb", "weight": 1, "policy": "ucb1" }],
 *       "shadow": { "policy": "random" }
 *     }]
 *   }]
 * }
 * ```
 */
import { z } from 'zod';
import { readJsonFile } from '../config/read-json-file.ts';
import { POLICY_LIMITS } from '../domain/limits.ts';
import { POLICY_NAMES } from '../domain/policy-names.ts';
import { CroupierError } from '../errors/index.ts';

const policy = z.enum(POLICY_NAMES);
const id = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, . _ -');

const overrides = {
  policy: policy.optional(),
  priorStrength: z
    .number()
    .min(POLICY_LIMITS.priorStrength.min)
    .max(POLICY_LIMITS.priorStrength.max)
    .optional(),
  epsilon: z.number().min(0).max(1).optional(),
  ucbC: z.number().min(0).max(POLICY_LIMITS.ucbC.max).optional(),
};

const variantSchema = z
  .object({
    name: id,
    weight: z.number().positive().max(POLICY_LIMITS.variantWeight.max).default(1),
    ...overrides,
  })
  .strict();

const shadowSchema = z.object({ policy }).strict();

const experimentSchema = z
  .object({
    name: id,
    /** Salt of the variant split; defaults to the experiment name. */
    salt: z.string().min(1).optional(),
    /** Share of the layer's users, as [start, end) percent; experiments of a layer must not overlap. */
    range: z
      .tuple([z.number().min(0).max(100), z.number().min(0).max(100)])
      .refine(([start, end]) => start < end, 'start must be below end'),
    variants: z.array(variantSchema).min(1),
    /** A policy computed for the same request and logged, never shown. */
    shadow: shadowSchema.optional(),
  })
  .strict()
  .superRefine((experiment, ctx) => {
    const names = new Set<string>();
    experiment.variants.forEach((variant, index) => {
      if (names.has(variant.name)) {
        ctx.addIssue({
          code: 'custom',
          path: ['variants', index, 'name'],
          message: 'duplicate variant name',
        });
      }
      names.add(variant.name);
    });
  });

const layerSchema = z
  .object({
    name: id,
    /** Salt of the layer's bucketing; layers with different salts split users independently. */
    salt: z.string().min(1),
    experiments: z.array(experimentSchema).default([]),
  })
  .strict()
  .superRefine((layer, ctx) => {
    const sorted = layer.experiments
      .map((e, index) => ({ index, range: e.range }))
      .sort((a, b) => a.range[0] - b.range[0]);
    for (let i = 1; i < sorted.length; i++) {
      if (sorted[i].range[0] < sorted[i - 1].range[1]) {
        ctx.addIssue({
          code: 'custom',
          path: ['experiments', sorted[i].index, 'range'],
          message: `overlaps experiment ${layer.experiments[sorted[i - 1].index].name} in the same layer`,
        });
      }
    }
  });

export const experimentsConfigSchema = z
  .object({
    /** Users kept out of every experiment and served the default policy. */
    holdout: z
      .object({ salt: z.string().min(1), percent: z.number().min(0).max(100) })
      .strict()
      .optional(),
    /** Shadow policy for users no experiment gives one (holdout excluded). */
    shadow: shadowSchema.optional(),
    layers: z.array(layerSchema).default([]),
  })
  .strict()
  .superRefine((config, ctx) => {
    const seen = new Map<string, string>();
    config.layers.forEach((layer, li) => {
      if (seen.has(`layer:${layer.name}`)) {
        ctx.addIssue({ code: 'custom', path: ['layers', li, 'name'], message: 'duplicate layer name' });
      }
      seen.set(`layer:${layer.name}`, layer.name);
      layer.experiments.forEach((experiment, ei) => {
        if (seen.has(`experiment:${experiment.name}`)) {
          ctx.addIssue({
            code: 'custom',
            path: ['layers', li, 'experiments', ei, 'name'],
            message: 'duplicate experiment name',
          });
        }
        seen.set(`experiment:${experiment.name}`, layer.name);
      });
    });
  });

export type ExperimentsConfig = z.infer<typeof experimentsConfigSchema>;
export type ExperimentsConfigInput = z.input<typeof experimentsConfigSchema>;
export type VariantConfig = z.infer<typeof variantSchema>;

/** No experiments: everyone gets the default policy. */
export const NO_EXPERIMENTS: ExperimentsConfig = Object.freeze({ layers: [] });

export function parseExperimentsConfig(value: unknown, origin = 'experiments config'): ExperimentsConfig {
  const parsed = experimentsConfigSchema.safeParse(value);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue.path.join('.') || '(root)';
    throw new CroupierError('CROUPIER_ERR_EXPERIMENTS_INVALID', `${origin}: ${where}: ${issue.message}`, {
      origin,
      path: where,
    });
  }
  return parsed.data;
}

/** Reads an experiments JSON file; an empty path means no experiments. */
export async function loadExperimentsConfig(path: string): Promise<ExperimentsConfig> {
  if (path === '') return NO_EXPERIMENTS;
  const json = await readJsonFile(path, {
    code: 'CROUPIER_ERR_EXPERIMENTS_INVALID',
    what: 'the experiments file',
  });
  return parseExperimentsConfig(json, path);
}
