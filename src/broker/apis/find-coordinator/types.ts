export interface FindCoordinatorRequest {
  key: string;
  /** 0 group, 1 transaction. */
  keyType: number;
}

export interface FindCoordinatorResponse {
  throttleTimeMs: number;
  errorCode: number;
  errorMessage: string | null;
  nodeId: number;
  host: string;
  port: number;
}
