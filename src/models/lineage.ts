/**
 * A trained model version's lineage, stored beside its ONNX file as `<version>.lineage.json`: where its data
 * came from (the archive files read with their content hashes and offset ranges, the window, row counts),
 * how it was trained (kind, hyper-parameters, seed, code version, feature spec hash), the parity check and
 * the holdout metrics against the model that was active, and the evidence the promotion gate reads.
 */

export interface LineageFile {
  path: string;
  partition: number;
  startOffset: number;
  endOffset: number;
  bytes: number;
  sha256: string;
}

/** What the gate needs, copied out of the metrics so it reads without knowing them. */
export interface GateEvidence {
  parityPassed: boolean;
  candidateLogLoss: number;
  /** The model the candidate was compared with on the same holdout rows (null: none was comparable). */
  comparedWith: string | null;
  activeLogLoss: number | null;
  /** Candidate minus active AUC with its paired interval, when both classes were present. */
  aucDifference: { difference: number; ci: [number, number]; confidence: number } | null;
}

export interface Lineage {
  version: string;
  kind: string;
  created: string;
  codeVersion: string;
  seed: number;
  hyperParameters: Record<string, unknown>;
  featureSpec: { file: string; hash: string; width: number };
  archive: {
    location: string;
    files: LineageFile[];
    offsetRanges: { partition: number; start: number; end: number }[];
  };
  window: { from: string; to: string; holdoutStart: string; attributionWindowSeconds: number };
  rows: Record<string, number>;
  carouselOffsets: { partition: number; start: number; end: number }[];
  position: { method: string; neutralValue: number };
  training: Record<string, unknown>;
  parity: { passed: boolean; rows: number; maxAbsDiff: number; tolerance: number };
  metrics: Record<string, unknown>;
  gateEvidence: GateEvidence;
}

export const lineageFileOf = (version: string) => `${version}.lineage.json`;
export const reliabilityFileOf = (version: string) => `${version}.reliability.svg`;
