import { describe, expect, it } from 'vitest';
import { eventRecords, snapshotRecords } from '../../simulator/world/cdc.ts';
import { createItem } from '../../simulator/world/population.ts';
import { listScenarios, loadScenario, parseScenario } from '../../simulator/world/scenario.ts';
import { createWorld, type World } from '../../simulator/world/world.ts';
import { hasCode } from '../../src/errors/index.ts';
import { createRng } from '../../src/stats/rng.ts';

/** A compact fingerprint of a world's trajectory: sessions, events and users' responses. */
function trajectory(world: World, sessions: number): string[] {
  const responses = createRng(99);
  const out: string[] = [];
  for (let k = 0; k < sessions; k++) {
    const session = world.nextSession();
    for (const event of world.advance(session.at)) {
      const what =
        'item' in event ? event.item.itemId : 'items' in event ? event.items.map((i) => i.itemId) : '';
      out.push(`${event.type}@${event.at.toFixed(3)}:${what}`);
    }
    const slate = world.liveItems().slice(0, world.slots);
    const clicks = world.model
      .respond(responses, session.user, slate)
      .map((o) => `${o.clicked ? 1 : 0}${o.converted ? o.value.toFixed(2) : ''}/${o.watchMs}`);
    out.push(`${session.at.toFixed(3)} ${session.user.userId} x${session.requests} ${clicks.join(',')}`);
  }
  return out;
}

describe('simulated world', () => {
  it('ships every scenario the documentation names, and each one parses', () => {
    expect(listScenarios()).toEqual([
      'cold-start',
      'k-armed',
      'model-blind-spot',
      'new-item-burst',
      'popularity-shock',
      'preference-drift',
      'steady-state',
    ]);
    for (const name of listScenarios()) expect(loadScenario(name).name).toBe(name);
  });

  it('model-blind-spot: the model underrates its two categories by the set logit error and no other', () => {
    const blind = loadScenario('model-blind-spot');
    if (blind.kind !== 'world') throw new Error('world scenario expected');
    const fair = parseScenario({ ...blind, model: { ...blind.model, categoryLogitError: {} } });
    const a = createWorld(blind);
    const b = createWorld(fair);
    const logit = (p: number) => Math.log(p / (1 - p));
    const underrated = new Set(Object.keys(blind.model.categoryLogitError));
    expect(underrated).toEqual(new Set(['documentary', 'sci-fi']));
    let seen = 0;
    for (const [i, item] of a.liveItems().entries()) {
      const gap = logit(a.modelScore(1, item)) - logit(b.modelScore(1, b.liveItems()[i]));
      expect(gap).toBeCloseTo(underrated.has(item.category) ? -1.2 : 0, 9);
      if (underrated.has(item.category)) seen++;
      // The truth is the same in both worlds: only the model's view differs.
      expect(a.model.attractiveness(a.users[0], item)).toBe(
        b.model.attractiveness(b.users[0], b.liveItems()[i]),
      );
    }
    expect(seen).toBeGreaterThan(20);
  });

  it('replays the same trajectory from the same seed, and another from another seed', () => {
    const scenario = loadScenario('cold-start');
    const a = trajectory(createWorld(scenario, { seed: 5 }), 3000);
    const b = trajectory(createWorld(scenario, { seed: 5 }), 3000);
    const c = trajectory(createWorld(scenario, { seed: 6 }), 3000);
    expect(a).toEqual(b);
    expect(c).not.toEqual(a);
    expect(a.some((line) => line.startsWith('item-added'))).toBe(true);
    expect(a.some((line) => line.startsWith('item-retired'))).toBe(true);
    expect(a.some((line) => line.startsWith('user-changed'))).toBe(true);
  });

  it('applies scripted events at their times: drift, shock and its end, a burst of new items', () => {
    const drift = createWorld(loadScenario('preference-drift'));
    const user = drift.users[0];
    const before = Array.from(user.taste);
    expect(drift.advance(1799).some((e) => e.type === 'preference-drift')).toBe(false);
    expect(drift.advance(1801).map((e) => e.type)).toContain('preference-drift');
    expect(Array.from(user.taste)).not.toEqual(before);

    const shock = createWorld(loadScenario('popularity-shock'));
    const shocked = shock.advance(1300).find((e) => e.type === 'popularity-shock');
    expect(shocked?.type === 'popularity-shock' && shocked.items.every((i) => i.shock === 2.5)).toBe(true);
    expect(shock.advance(2500).map((e) => e.type)).toContain('shock-ended');

    const burst = createWorld(loadScenario('new-item-burst'));
    const live = burst.liveItems().length;
    expect(burst.advance(1900).filter((e) => e.type === 'item-added')).toHaveLength(40);
    expect(burst.liveItems().length).toBe(live + 40);
  });

  it('puts a position-bias curve on the true click probability and ranks the oracle slate first', () => {
    const world = createWorld(loadScenario('steady-state'));
    const user = world.users[3];
    const item = world.liveItems()[0];
    const p = [0, 1, 2, 3, 4].map((slot) => world.model.clickProbability(user, item, slot));
    for (let s = 1; s < p.length; s++) expect(p[s]).toBeLessThan(p[s - 1]);
    expect(p[1] / p[0]).toBeCloseTo(1 / 2 ** 0.8, 10);
    const oracle = world.model.oracleClicks(user, world.liveItems(), world.slots);
    const arbitrary = world.model.expectedClicks(user, world.liveItems().slice(0, world.slots));
    expect(oracle).toBeGreaterThan(arbitrary);
  });

  it("leans an item's attributes along its category's axis by items.categoryLean, spread by items.attributeSd", () => {
    /** Mean of the category's own axis and standard deviation of the other axes over many drawn items. */
    const shape = (items: { categoryLean?: number; attributeSd?: number }) => {
      const base = loadScenario('steady-state');
      if (base.kind !== 'world') throw new Error('world scenario expected');
      const scenario = parseScenario({ ...base, items: { ...base.items, ...items } });
      if (scenario.kind !== 'world') throw new Error('world scenario expected');
      const rng = createRng(11);
      let own = 0;
      let others = 0;
      let n = 0;
      for (let k = 0; k < 4000; k++) {
        const item = createItem(rng, scenario, k, { createdAt: 0 });
        const axis = scenario.items.categories.indexOf(item.category) % scenario.dimensions;
        item.attributes.forEach((a, j) => {
          if (j === axis) own += a;
          else {
            others += a * a;
            n++;
          }
        });
      }
      return { lean: own / 4000, sd: Math.sqrt(others / n) };
    };
    const defaults = shape({});
    expect(defaults.lean).toBeCloseTo(0.8, 1);
    expect(defaults.sd).toBeCloseTo(1, 1);
    const loyal = shape({ categoryLean: 2.5, attributeSd: 0.5 });
    expect(loyal.lean).toBeCloseTo(2.5, 1);
    expect(loyal.sd).toBeCloseTo(0.5, 1);
  });

  it('publishes the catalog as Debezium-style change events: a snapshot, then creates and retirements', () => {
    const world = createWorld(loadScenario('cold-start'));
    const snapshot = snapshotRecords(world, 1_700_000_000_000);
    expect(snapshot.filter((r) => r.topic === 'items')).toHaveLength(60);
    expect(snapshot[0].value.op).toBe('r');
    const events = world.advance(3600);
    const records = events.flatMap((e, i) => eventRecords(world, e, 1_700_000_000_000, i));
    const retired = records.find((r) => r.topic === 'items' && r.value.op === 'u');
    expect(retired?.value.after).toMatchObject({ available: false });
    expect(records.some((r) => r.value.op === 'c')).toBe(true);
  });

  it('rejects a scenario with a bad field and names the field', () => {
    const bad = { ...loadScenario('k-armed'), arms: [0.5, 1.5] };
    try {
      parseScenario(bad, 'bad.json');
      expect.unreachable();
    } catch (error) {
      expect(hasCode(error, 'CROUPIER_ERR_SCENARIO_INVALID')).toBe(true);
      expect((error as Error).message).toContain('arms.1');
    }
  });
});
