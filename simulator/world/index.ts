/** The simulated world: scenarios, population, click model, clock and change events. */
export { type CdcRecord, eventRecords, snapshotRecords } from './cdc.ts';
export { ClickModel, type Outcome, sigmoid } from './click-model.ts';
export type { SimItem, SimUser } from './population.ts';
export {
  type KArmedScenario,
  listScenarios,
  loadScenario,
  parseScenario,
  type Scenario,
  scenariosDir,
  type WorldScenario,
} from './scenario.ts';
export { createWorld, type Session, type World, type WorldEvent, type WorldOptions } from './world.ts';
