export interface HeartbeatRequest {
  groupId: string;
  generationId: number;
  memberId: string;
}

export interface HeartbeatResponse {
  throttleTimeMs: number;
  errorCode: number;
}
