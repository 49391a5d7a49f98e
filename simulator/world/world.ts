/**
 * A seeded simulated world: its population, its catalog, its clock and what happens as the clock moves.
 *
 * The world owns independent random streams (population, session arrivals, catalog, user changes), so the
 * same seed gives the same trajectory of sessions, items and events whatever a policy does: every policy
 * compared on a seed faces the same users at the same times. What users do with a slate is drawn by the
 * caller from its own stream (`ClickModel.respond`).
 *
 * Processes (rates per simulated second):
 * - sessions arrive as a Poisson process (`sessionsPerSecond`); a session has 1 + Geometric requests with
 *   mean `requestsPerSession`, from one user drawn uniformly, on the user's device;
 * - items arrive as a Poisson process (`items.arrivalsPerSecond`) and live an exponential lifetime;
 * - user attribute changes arrive as a Poisson process (`users.changesPerSecond`): a user moves to another
 *   segment (the taste moves halfway to the new centroid), another country, or flips the subscription;
 * - scripted events (preference drift, popularity shock, new-item burst) happen at their `at` times.
 */
import { createRng, type Rng } from '../../src/stats/rng.ts';
import { ClickModel } from './click-model.ts';
import {
  createArms,
  createCentroids,
  createItem,
  createUser,
  gaussianVector,
  pick,
  type SimItem,
  type SimUser,
} from './population.ts';
import type { Scenario, ScenarioEvent } from './scenario.ts';

export type WorldEvent =
  | { type: 'item-added'; at: number; item: SimItem }
  | { type: 'item-retired'; at: number; item: SimItem }
  | { type: 'user-changed'; at: number; user: SimUser; before: UserSnapshot }
  | { type: 'preference-drift'; at: number; angle: number }
  | { type: 'popularity-shock'; at: number; items: SimItem[]; boost: number }
  | { type: 'shock-ended'; at: number; items: SimItem[] };

export interface UserSnapshot {
  segment: number;
  country: string;
  subscribed: boolean;
}

export interface Session {
  at: number;
  user: SimUser;
  device: string;
  page: string;
  requests: number;
}

export interface WorldOptions {
  /** Overrides the scenario's seed. */
  seed?: number;
  /** Overrides the scenario's session rate (sessions per simulated second). */
  sessionsPerSecond?: number;
  /**
   * Seed of the sessions (who arrives when, and what they do with a slate) apart from the world's: the same
   * users and catalog meet other sessions, traffic a model trained on the default sessions has not seen.
   * Default: the world's seed.
   */
  sessionSeed?: number;
}

export interface World {
  readonly scenario: Scenario;
  readonly seed: number;
  /** Seed of the sessions and of users' responses (WorldOptions.sessionSeed). */
  readonly sessionSeed: number;
  readonly slots: number;
  readonly segments: readonly string[];
  readonly users: readonly SimUser[];
  readonly items: readonly SimItem[];
  readonly model: ClickModel;
  readonly durationSeconds: number;
  /** Items live now. */
  liveItems(): readonly SimItem[];
  /** The next session (advances the arrival process, not the clock). */
  nextSession(): Session;
  /** Applies everything that happens up to simulated time `t` and returns it in time order. */
  advance(t: number): WorldEvent[];
  /** The scoring model's p̂ for an item in a segment. */
  modelScore(segment: number, item: SimItem): number;
  now(): number;
}

const PAGES = ['home', 'browse', 'detail'];

interface Pending {
  at: number;
  run: () => WorldEvent[];
}

export function createWorld(scenario: Scenario, options: WorldOptions = {}): World {
  const seed = options.seed ?? scenario.seed;
  return scenario.kind === 'k-armed'
    ? createKArmedWorld(scenario, seed)
    : createFullWorld(scenario, seed, options);
}

function createFullWorld(
  scenario: Extract<Scenario, { kind: 'world' }>,
  seed: number,
  options: WorldOptions,
): World {
  const populationRng = createRng(seed);
  const sessionSeed = options.sessionSeed ?? seed;
  const arrivalRng = createRng(sessionSeed + 1_000_003);
  const catalogRng = createRng(seed + 2_000_003);
  const changeRng = createRng(seed + 3_000_003);
  const centroids = createCentroids(populationRng, scenario);
  const users: SimUser[] = [];
  for (let i = 0; i < scenario.users.count; i++)
    users.push(createUser(populationRng, scenario, centroids, i));
  const items: SimItem[] = [];
  let live: SimItem[] = [];
  let liveDirty = false;
  const addItem = (at: number, qualityBoost = 0): SimItem => {
    const item = createItem(catalogRng, scenario, items.length, { createdAt: at, qualityBoost });
    items.push(item);
    live.push(item);
    return item;
  };
  for (let i = 0; i < scenario.items.initial; i++) addItem(0);
  const model = new ClickModel(
    {
      baseLogit: scenario.click.baseLogit,
      tasteWeight: scenario.click.tasteWeight,
      positionBiasExponent: scenario.click.positionBiasExponent,
      conversionBaseLogit: scenario.conversion.baseLogit,
      valueLogMean: scenario.conversion.valueLogMean,
      valueLogSd: scenario.conversion.valueLogSd,
      watchLogMeanMs: scenario.watch.logMeanMs,
      watchLogSd: scenario.watch.logSd,
      categoryLogitError: scenario.model.categoryLogitError,
    },
    scenario.slots,
  );
  const sessionRate = options.sessionsPerSecond ?? scenario.sessionsPerSecond;
  const exponential = (rng: Rng, rate: number): number =>
    rate > 0 ? -Math.log(1 - rng.next()) / rate : Number.POSITIVE_INFINITY;
  let clock = 0;
  let nextArrival = exponential(arrivalRng, sessionRate);
  let nextItem = exponential(catalogRng, scenario.items.arrivalsPerSecond);
  let nextChange = exponential(changeRng, scenario.users.changesPerSecond);
  const scripted: Pending[] = [...scenario.events]
    .sort((a, b) => a.at - b.at)
    .map((event) => ({ at: event.at, run: () => applyScripted(event) }));

  function applyScripted(event: ScenarioEvent): WorldEvent[] {
    switch (event.type) {
      case 'preference-drift': {
        const c = Math.cos(event.angle);
        const s = Math.sin(event.angle);
        for (const user of users) {
          const fresh = gaussianVector(changeRng, scenario.dimensions);
          for (let j = 0; j < fresh.length; j++) user.taste[j] = c * user.taste[j] + s * fresh[j];
        }
        model.invalidate();
        return [{ type: 'preference-drift', at: event.at, angle: event.angle }];
      }
      case 'popularity-shock': {
        const chosen: SimItem[] = [];
        const pool = liveItems().filter((item) => item.shock === 0);
        for (let k = 0; k < event.items && pool.length > 0; k++) {
          const item = pool.splice(Math.floor(changeRng.next() * pool.length), 1)[0];
          item.shock = event.boost;
          chosen.push(item);
        }
        model.invalidate();
        if (event.durationSeconds !== undefined) {
          const end = event.at + event.durationSeconds;
          scripted.push({
            at: end,
            run: () => {
              for (const item of chosen) item.shock = 0;
              model.invalidate();
              return [{ type: 'shock-ended', at: end, items: chosen }];
            },
          });
          scripted.sort((a, b) => a.at - b.at);
        }
        return [{ type: 'popularity-shock', at: event.at, items: chosen, boost: event.boost }];
      }
      case 'new-items': {
        const out: WorldEvent[] = [];
        for (let k = 0; k < event.count; k++) {
          out.push({ type: 'item-added', at: event.at, item: addItem(event.at, event.quality) });
        }
        return out;
      }
    }
  }

  function changeUser(at: number): WorldEvent {
    const user = users[Math.floor(changeRng.next() * users.length)];
    const before: UserSnapshot = {
      segment: user.segment,
      country: user.country,
      subscribed: user.subscribed,
    };
    const what = changeRng.next();
    if (what < 0.4 && centroids.length > 1) {
      let next = Math.floor(changeRng.next() * (centroids.length - 1));
      if (next >= user.segment) next++;
      const centroid = centroids[next];
      for (let j = 0; j < user.taste.length; j++) user.taste[j] = 0.5 * user.taste[j] + 0.5 * centroid[j];
      user.segment = next;
    } else if (what < 0.7) {
      user.country = pick(changeRng, scenario.users.countries);
    } else {
      user.subscribed = !user.subscribed;
    }
    model.invalidate();
    return { type: 'user-changed', at, user, before };
  }

  function liveItems(): readonly SimItem[] {
    if (liveDirty) {
      live = live.filter((item) => item.live);
      liveDirty = false;
    }
    return live;
  }

  function nextRetirement(): SimItem | undefined {
    let first: SimItem | undefined;
    for (const item of live)
      if (item.live && (first === undefined || item.retireAt < first.retireAt)) first = item;
    return first;
  }

  function advance(t: number): WorldEvent[] {
    const out: WorldEvent[] = [];
    for (;;) {
      const retiring = nextRetirement();
      const retireAt = retiring?.retireAt ?? Number.POSITIVE_INFINITY;
      const scriptAt = scripted[0]?.at ?? Number.POSITIVE_INFINITY;
      const at = Math.min(retireAt, scriptAt, nextItem, nextChange);
      if (at > t) break;
      clock = at;
      if (at === scriptAt) {
        out.push(...scripted.shift()!.run());
      } else if (at === nextItem) {
        out.push({ type: 'item-added', at, item: addItem(at) });
        nextItem = at + exponential(catalogRng, scenario.items.arrivalsPerSecond);
      } else if (at === nextChange) {
        out.push(changeUser(at));
        nextChange = at + exponential(changeRng, scenario.users.changesPerSecond);
      } else if (retiring !== undefined) {
        retiring.live = false;
        liveDirty = true;
        out.push({ type: 'item-retired', at, item: retiring });
      }
    }
    clock = Math.max(clock, t);
    return out;
  }

  function nextSession(): Session {
    const at = nextArrival;
    nextArrival = at + exponential(arrivalRng, sessionRate);
    const user = users[Math.floor(arrivalRng.next() * users.length)];
    const p = 1 / scenario.requestsPerSession;
    const extra = p >= 1 ? 0 : Math.floor(Math.log(1 - arrivalRng.next()) / Math.log(1 - p));
    return { at, user, device: user.device, page: pick(arrivalRng, PAGES), requests: 1 + extra };
  }

  return {
    scenario,
    seed,
    sessionSeed,
    slots: scenario.slots,
    segments: scenario.users.segments.map((s) => s.name),
    users,
    items,
    model,
    durationSeconds: scenario.durationSeconds,
    liveItems,
    nextSession,
    advance,
    modelScore: (segment, item) => model.modelScore(centroids[segment], segment, item),
    now: () => clock,
  };
}

/** The K-armed scenario as a degenerate world: one user, the arms as items, one slot, no events. */
function createKArmedWorld(scenario: Extract<Scenario, { kind: 'k-armed' }>, seed: number): World {
  const items = createArms(scenario.arms);
  const user: SimUser = {
    index: 0,
    userId: 'u00000',
    segment: 0,
    taste: new Float64Array(0),
    country: 'US',
    device: 'desktop',
    subscribed: false,
  };
  const model = new ClickModel(
    {
      baseLogit: 0,
      tasteWeight: 0,
      positionBiasExponent: 0,
      conversionBaseLogit: 0,
      valueLogMean: 0,
      valueLogSd: 0,
      watchLogMeanMs: 0,
      watchLogSd: 0,
    },
    1,
  );
  const interval = 1 / scenario.requestsPerSecond;
  let pulls = 0;
  let clock = 0;
  return {
    scenario,
    seed,
    sessionSeed: seed,
    slots: 1,
    segments: ['all'],
    users: [user],
    items,
    model,
    durationSeconds: scenario.pulls * interval,
    liveItems: () => items,
    nextSession: () => ({ at: pulls++ * interval, user, device: 'desktop', page: 'home', requests: 1 }),
    advance: (t) => {
      clock = Math.max(clock, t);
      return [];
    },
    modelScore: () => 0.5,
    now: () => clock,
  };
}
