export interface LeaveGroupRequest {
  groupId: string;
  memberId: string;
}

export interface LeaveGroupResponse {
  throttleTimeMs: number;
  errorCode: number;
}
