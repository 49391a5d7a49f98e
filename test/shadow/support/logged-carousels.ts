/** Small logged carousels for the shadow test's unit tests: a valid one, changed field by field. */
import type { CandidateSet } from '../../../src/domain/candidate-set.ts';
import type { LoggedCarousel } from '../../../src/shadow/logged-carousel.ts';

/** Four candidates, one of them counted far past any real log, with the gateway's default settings. */
export function candidateSet(changes: Partial<CandidateSet> = {}): CandidateSet {
  return {
    itemIds: ['a', 'b', 'c', 'd'],
    scores: [0.3, 0.1, 0.2, 1e-9],
    impressions: [1e12, 0, 40, 0],
    clicks: [3e11, 0, 2, 0],
    priorStrength: 20,
    temperature: 0.3,
    temperingImpressions: 500,
    epsilon: 0.1,
    ucbC: 1,
    shadowModelVersion: null,
    shadowScores: null,
    ...changes,
  };
}

/** A Thompson carousel that showed a and c (a clicked), with `candidateSet()` unless told otherwise. */
export function loggedCarousel(changes: Partial<LoggedCarousel> = {}): LoggedCarousel {
  return {
    requestId: 'r1',
    userId: 'u1',
    timestamp: 0,
    policy: 'thompson',
    modelVersion: 'default-1',
    shadowPolicy: null,
    items: [
      { itemId: 'a', slot: 0, score: 0.3, propensity: 0.5, shadowPropensity: null },
      { itemId: 'c', slot: 1, score: 0.2, propensity: 0.4, shadowPropensity: null },
    ],
    candidates: candidateSet(),
    clicks: [1, 0],
    conversions: [0, 0],
    watchSeconds: [0, 0],
    ...changes,
  };
}
