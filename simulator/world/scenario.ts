/**
 * A scenario: the parameters of a simulated world, as a JSON file in `simulator/scenarios/`. Times are in
 * simulated seconds from the start of the run; `durationSeconds` is the scenario's own length, and a run
 * with another duration scales every event time by the same factor.
 *
 * Two kinds:
 * - `world`: users in segments with latent tastes, items with latent attributes, a click model with a
 *   position-bias curve, conversions and watch time, catalog life and timed events;
 * - `k-armed`: a pure K-armed Bernoulli bandit (one slot, no context, no model): `arms` are the click
 *   probabilities.
 */
import { readdirSync } from 'node:fs';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { jsonFileProblem, readJsonFileSync } from '../../src/config/read-json-file.ts';
import { CroupierError } from '../../src/errors/index.ts';

const positive = z.number().positive();
const nonNegative = z.number().min(0);

const segmentSchema = z
  .object({
    name: z.string().min(1),
    /** Relative share of users in the segment. */
    weight: positive.default(1),
  })
  .strict();

const eventSchema = z.discriminatedUnion('type', [
  z
    .object({
      type: z.literal('preference-drift'),
      at: nonNegative,
      /** Angle (radians) each user's taste turns towards a fresh random direction; π/2 = a new taste. */
      angle: z
        .number()
        .min(0)
        .max(Math.PI)
        .default(Math.PI / 2),
    })
    .strict(),
  z
    .object({
      type: z.literal('popularity-shock'),
      at: nonNegative,
      /** How many live items become suddenly popular. */
      items: z.number().int().positive(),
      /** Added to their click logit. */
      boost: z.number(),
      /** How long the shock lasts (simulated seconds); absent: until the end. */
      durationSeconds: positive.optional(),
    })
    .strict(),
  z
    .object({
      type: z.literal('new-items'),
      at: nonNegative,
      count: z.number().int().positive(),
      /** Added to the new items' click logit (a burst of items better than the catalog: > 0). */
      quality: z.number().default(0),
    })
    .strict(),
]);

export const worldScenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    kind: z.literal('world'),
    seed: z.number().int().default(1),
    durationSeconds: positive,
    /** Poisson rate of session arrivals (sessions per simulated second). */
    sessionsPerSecond: positive,
    /** Mean number of carousel requests in a session (1 + geometric). */
    requestsPerSession: z.number().min(1).default(3),
    slots: z.number().int().min(1).max(50).default(5),
    /** Latent dimensions of tastes and item attributes. */
    dimensions: z.number().int().min(1).max(64).default(8),
    users: z
      .object({
        count: z.number().int().positive(),
        segments: z.array(segmentSchema).min(1),
        /** Spread of a user's taste around the segment's centroid (per dimension). */
        tasteSpread: nonNegative.default(0.5),
        countries: z.array(z.string().min(1)).min(1).default(['US', 'GB', 'DE', 'FR', 'JP']),
        devices: z.array(z.string().min(1)).min(1).default(['mobile', 'desktop', 'tv']),
        /** Attribute changes (segment, country, subscription) per simulated second, over all users. */
        changesPerSecond: nonNegative.default(0),
      })
      .strict(),
    items: z
      .object({
        initial: z.number().int().positive(),
        categories: z.array(z.string().min(1)).min(1),
        /** Standard deviation of an item's own popularity (click logit offset). */
        popularitySd: nonNegative.default(0.6),
        /**
         * How far an item's attributes lean along its category's axis: the larger against `attributeSd`, the more
         * a user's taste for an item is their taste for its category.
         */
        categoryLean: nonNegative.default(0.8),
        /** Standard deviation of an item's attributes around its category's lean (per dimension). */
        attributeSd: nonNegative.default(1),
        /** New items per simulated second (Poisson). */
        arrivalsPerSecond: nonNegative.default(0),
        /** Mean lifetime of an item (exponential), simulated seconds; absent: items never retire. */
        meanLifetimeSeconds: positive.optional(),
      })
      .strict(),
    click: z
      .object({
        /** Click logit of an average item for an average user in the first slot. */
        baseLogit: z.number().default(-2.5),
        /** Weight of the taste-attribute affinity in the click logit. */
        tasteWeight: nonNegative.default(1.2),
        /** Position bias: slot s (0-based) is examined with probability 1 / (1 + s)^exponent. */
        positionBiasExponent: nonNegative.default(0.8),
      })
      .strict()
      .default({}),
    conversion: z
      .object({
        /** Logit of converting after a click, for an item of average quality. */
        baseLogit: z.number().default(-2),
        /** Conversion value is log-normal: ln(value) ~ N(logMean, logSd²). */
        valueLogMean: z.number().default(3),
        valueLogSd: nonNegative.default(0.8),
      })
      .strict()
      .default({}),
    watch: z
      .object({
        /** Watch time after a click is log-normal: ln(ms) ~ N(logMeanMs + affinity, logSd²). */
        logMeanMs: z.number().default(10),
        logSd: nonNegative.default(1),
      })
      .strict()
      .default({}),
    model: z
      .object({
        /** Noise (logit scale) of the scoring model's p̂ around the segment-level truth. */
        noiseSd: nonNegative.default(0.5),
        /**
         * Systematic error of the scoring model on part of the catalog, per category: added to p̂'s logit, never
         * to the truth (negative: the model underrates the category, as one trained before tastes moved to it).
         */
        categoryLogitError: z.record(z.string().min(1), z.number()).default({}),
      })
      .strict()
      .default({}),
    events: z.array(eventSchema).default([]),
  })
  .strict();

export const kArmedScenarioSchema = z
  .object({
    name: z.string().min(1),
    description: z.string().default(''),
    kind: z.literal('k-armed'),
    seed: z.number().int().default(1),
    /** Click probability of each arm. */
    arms: z.array(z.number().gt(0).lt(1)).min(2),
    /** Pulls of a run (one request, one slot, one pull). */
    pulls: z.number().int().positive(),
    /** Requests per second when the scenario runs against a gateway. */
    requestsPerSecond: positive.default(100),
  })
  .strict();

export const scenarioSchema = z.discriminatedUnion('kind', [worldScenarioSchema, kArmedScenarioSchema]);

export type WorldScenario = z.infer<typeof worldScenarioSchema>;
export type KArmedScenario = z.infer<typeof kArmedScenarioSchema>;
export type Scenario = z.infer<typeof scenarioSchema>;
export type ScenarioEvent = WorldScenario['events'][number];

/** The folder of the scenarios croupier ships. */
export function scenariosDir(): string {
  return fileURLToPath(new URL('../scenarios/', import.meta.url));
}

/** Names of the shipped scenarios. */
export function listScenarios(dir = scenariosDir()): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.json'))
    .map((file) => basename(file, '.json'))
    .sort();
}

/** Validates a parsed scenario, naming the offending path. */
export function parseScenario(value: unknown, source = 'scenario'): Scenario {
  const result = scenarioSchema.safeParse(value);
  if (!result.success) {
    const issue = result.error.issues[0];
    const where = issue.path.join('.') || '(root)';
    throw new CroupierError(
      'CROUPIER_ERR_SCENARIO_INVALID',
      `${source}: ${where}: ${issue.message}; fix the scenario file (see simulator/world/scenario.ts)`,
      { source, path: issue.path },
    );
  }
  return Object.freeze(result.data);
}

/** Loads a scenario by shipped name (`steady-state`) or by path to a JSON file. */
export function loadScenario(nameOrPath: string): Scenario {
  const isPath = nameOrPath.includes('/') || nameOrPath.endsWith('.json');
  const file = isPath ? nameOrPath : join(scenariosDir(), `${nameOrPath}.json`);
  let parsed: unknown;
  try {
    parsed = readJsonFileSync(file, { code: 'CROUPIER_ERR_SCENARIO_INVALID', what: 'the scenario' });
  } catch (cause) {
    if (jsonFileProblem(cause) === 'invalid-json') throw cause;
    throw new CroupierError(
      'CROUPIER_ERR_SCENARIO_NOT_FOUND',
      `no scenario '${nameOrPath}' (looked at ${file}); shipped scenarios: ${listScenarios().join(', ')}`,
      { file },
      { cause },
    );
  }
  return parseScenario(parsed, file);
}
