/** The one list of exploration policies: config, experiments, the decision core and the simulator use it. */
export const POLICY_NAMES = ['thompson', 'greedy', 'ucb1', 'epsilon-greedy', 'random'] as const;

export type PolicyName = (typeof POLICY_NAMES)[number];

export function isPolicyName(value: unknown): value is PolicyName {
  return typeof value === 'string' && (POLICY_NAMES as readonly string[]).includes(value);
}
