/**
 * The short chaos run (`npm run chaos -- --quick`): croupier under carousel traffic with clicks while redis-server
 * (with its AOF, then with no data at all), the broker, croupier's topology thread and the whole croupier process
 * are killed in turn with SIGKILL and restarted. Croupier recovers from each, never deals an empty carousel while
 * it says it is ready, and Redis ends up holding exactly the reference fold of the clickstream topic.
 */
import { describe, expect, it } from 'vitest';
import { FAULTS, QUICK_CHAOS, runChaos } from '../../load-tests/reliability/chaos.ts';

describe('chaos', () => {
  it('recovers from every kill with nothing lost or counted twice in Redis', {
    timeout: 300_000,
  }, async () => {
    const report = await runChaos(QUICK_CHAOS);
    expect(report.faults.map((f) => f.fault)).toEqual([...FAULTS]);
    for (const fault of report.faults) {
      expect(fault.secondsToRecover, `${fault.fault} recovered`).not.toBeNull();
      expect(fault.emptyWhileReady, `${fault.fault}: empty carousels while ready`).toBe(0);
    }
    // Only the kill of the whole process leaves clients without a gateway.
    const processKill = report.faults.find((f) => f.fault === 'process-kill');
    expect(processKill?.failed).toBeGreaterThan(0);
    expect(report.audit.differences).toEqual([]);
    expect(report.audit.exact).toBe(true);
    expect(report.audit.clicks).toBeGreaterThan(0);
  });
});
