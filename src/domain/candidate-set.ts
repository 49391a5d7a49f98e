/**
 * The candidate set of a decision, logged for a sampled share of carousels (`log.candidateSampleRate`); its
 * contract is the Carousel record's `candidates` (streams/schemas).
 */
import type { CandidateSet } from '../../streams/schemas/index.ts';

export type { CandidateSet };

/**
 * A decision's candidate set as the decider keeps it until the carousel is logged: copied when the decision is
 * made, turned into a `CandidateSet` only when the record is written (after the reply).
 */
export interface PendingCandidateSet {
  resolve(): CandidateSet;
}
