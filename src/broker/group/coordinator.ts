/**
 * Consumer group coordinator (the classic protocol: JoinGroup/SyncGroup/Heartbeat/LeaveGroup v0-v2 era).
 *
 * States as Kafka's GroupMetadata: Empty → PreparingRebalance → CompletingRebalance → Stable, and Dead.
 * The join barrier completes when every known member has (re)joined, or when the rebalance timeout expires
 * (members that did not rejoin are dropped). The sync barrier completes when the leader sends assignments.
 * A member whose session expires (no heartbeat, join or sync within session_timeout_ms) is removed.
 * Committed offsets live here too (OffsetCommit/OffsetFetch, and TxnOffsetCommit on transaction commit).
 */
import { randomUUID } from 'node:crypto';
import type { DescribedGroup } from '../apis/describe-groups/types.ts';
import type { JoinGroupRequest, JoinGroupResponse } from '../apis/join-group/types.ts';
import type { SyncGroupRequest, SyncGroupResponse } from '../apis/sync-group/types.ts';
import { ErrorCode } from '../protocol/error-codes.ts';

export type GroupState = 'Empty' | 'PreparingRebalance' | 'CompletingRebalance' | 'Stable' | 'Dead';

export interface CommittedOffset {
  offset: number;
  metadata: string | null;
  commitTimestamp: number;
}

interface Member {
  memberId: string;
  clientId: string;
  clientHost: string;
  sessionTimeoutMs: number;
  rebalanceTimeoutMs: number;
  protocolType: string;
  protocols: { name: string; metadata: Buffer }[];
  assignment: Buffer;
  joinWaiter: ((r: JoinGroupResponse) => void) | null;
  syncWaiter: ((r: SyncGroupResponse) => void) | null;
  sessionTimer: NodeJS.Timeout | null;
}

class Group {
  readonly id: string;
  state: GroupState = 'Empty';
  generationId = 0;
  protocolType = '';
  protocolName = '';
  leaderId = '';
  readonly members = new Map<string, Member>();
  rebalanceTimer: NodeJS.Timeout | null = null;
  /** In the initial rebalance delay of a group that was empty: the barrier waits for the timer. */
  initialDelay = false;
  readonly offsets = new Map<string, Map<number, CommittedOffset>>();
  /** When the group last had a member (ms; 0: never since this broker started). */
  membersSeenAt = 0;

  constructor(id: string) {
    this.id = id;
  }
}

export interface GroupCoordinatorOptions {
  minSessionTimeoutMs: number;
  maxSessionTimeoutMs: number;
  /** Delay of the first rebalance of an empty group (Kafka's group.initial.rebalance.delay.ms). */
  initialRebalanceDelayMs: number;
  maxMetadataBytes: number;
  /**
   * How long the committed offsets of a group without members are kept after both their commit and the group's
   * last member (Kafka's offsets.retention.minutes, 7 days; -1: for ever). Without it any client could fill the
   * broker with offsets of made-up groups that nothing ever removes.
   */
  offsetsRetentionMs?: number;
  /** Persists committed offsets (data-dir mode). */
  onCommit?: (groupId: string, topic: string, partition: number, value: CommittedOffset | null) => void;
  log?: (message: string, fields?: Record<string, unknown>) => void;
}

const EMPTY = Buffer.alloc(0);

function sameProtocols(a: Member['protocols'], b: Member['protocols']): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.name !== b[i]!.name || !a[i]!.metadata.equals(b[i]!.metadata)) return false;
  }
  return true;
}

export class GroupCoordinator {
  private readonly groups = new Map<string, Group>();
  private readonly options: GroupCoordinatorOptions;
  private closed = false;

  constructor(options: GroupCoordinatorOptions) {
    this.options = options;
  }

  private group(id: string, create: boolean): Group | undefined {
    let g = this.groups.get(id);
    if (!g && create) {
      g = new Group(id);
      this.groups.set(id, g);
    }
    return g;
  }

  // ---- JoinGroup ----------------------------------------------------------------------------------------

  joinGroup(
    req: JoinGroupRequest,
    clientId: string,
    clientHost: string,
  ): JoinGroupResponse | Promise<JoinGroupResponse> {
    const fail = (errorCode: number): JoinGroupResponse => ({
      throttleTimeMs: 0,
      errorCode,
      generationId: -1,
      protocolName: '',
      leader: '',
      memberId: req.memberId,
      members: [],
    });
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    if (
      req.sessionTimeoutMs < this.options.minSessionTimeoutMs ||
      req.sessionTimeoutMs > this.options.maxSessionTimeoutMs
    ) {
      return fail(ErrorCode.INVALID_SESSION_TIMEOUT);
    }
    if (req.protocolType === '' || req.protocols.length === 0)
      return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
    const existing = this.groups.get(req.groupId);
    if (req.memberId !== '' && !existing?.members.has(req.memberId)) {
      return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    }
    const group = this.group(req.groupId, true)!;
    if (group.state === 'Dead') return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (group.members.size > 0 || group.state !== 'Empty') {
      if (group.protocolType !== req.protocolType) return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      const supported = this.candidateProtocols(group);
      if (supported.size > 0 && !req.protocols.some((p) => supported.has(p.name))) {
        return fail(ErrorCode.INCONSISTENT_GROUP_PROTOCOL);
      }
    }

    return new Promise<JoinGroupResponse>((resolve) => {
      if (req.memberId === '') {
        const memberId = `${clientId || 'member'}-${randomUUID()}`;
        const member: Member = {
          memberId,
          clientId,
          clientHost,
          sessionTimeoutMs: req.sessionTimeoutMs,
          rebalanceTimeoutMs: req.rebalanceTimeoutMs,
          protocolType: req.protocolType,
          protocols: req.protocols,
          assignment: EMPTY,
          joinWaiter: resolve,
          syncWaiter: null,
          sessionTimer: null,
        };
        if (group.members.size === 0) group.protocolType = req.protocolType;
        group.members.set(memberId, member);
        this.touch(group, member);
        this.prepareRebalance(group, 'member joined');
        this.maybeCompleteJoin(group);
        return;
      }
      const member = group.members.get(req.memberId)!;
      const changed = !sameProtocols(member.protocols, req.protocols);
      member.protocols = req.protocols;
      member.sessionTimeoutMs = req.sessionTimeoutMs;
      member.rebalanceTimeoutMs = req.rebalanceTimeoutMs;
      member.clientId = clientId;
      this.touch(group, member);
      if (member.joinWaiter) {
        // A retried join replaces the pending one.
        member.joinWaiter(this.joinFailure(member.memberId, ErrorCode.REBALANCE_IN_PROGRESS));
      }
      switch (group.state) {
        case 'PreparingRebalance':
          member.joinWaiter = resolve;
          this.maybeCompleteJoin(group);
          return;
        case 'CompletingRebalance':
        case 'Stable':
          if (!changed && !(group.state === 'Stable' && member.memberId === group.leaderId)) {
            // Same metadata: answer with the current generation.
            resolve(this.joinResponse(group, member));
            return;
          }
          member.joinWaiter = resolve;
          this.prepareRebalance(group, 'member rejoined with new metadata');
          this.maybeCompleteJoin(group);
          return;
        default:
          member.joinWaiter = resolve;
          this.prepareRebalance(group, 'rejoin');
          this.maybeCompleteJoin(group);
      }
    });
  }

  private joinFailure(memberId: string, errorCode: number): JoinGroupResponse {
    return {
      throttleTimeMs: 0,
      errorCode,
      generationId: -1,
      protocolName: '',
      leader: '',
      memberId,
      members: [],
    };
  }

  private joinResponse(group: Group, member: Member): JoinGroupResponse {
    const isLeader = member.memberId === group.leaderId;
    return {
      throttleTimeMs: 0,
      errorCode: ErrorCode.NONE,
      generationId: group.generationId,
      protocolName: group.protocolName,
      leader: group.leaderId,
      memberId: member.memberId,
      members: isLeader
        ? [...group.members.values()].map((m) => ({
            memberId: m.memberId,
            metadata: m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY,
          }))
        : [],
    };
  }

  private candidateProtocols(group: Group): Set<string> {
    let common: Set<string> | null = null;
    for (const m of group.members.values()) {
      const names = new Set(m.protocols.map((p) => p.name));
      if (common === null) common = names;
      else for (const n of [...common]) if (!names.has(n)) common.delete(n);
    }
    return common ?? new Set();
  }

  private prepareRebalance(group: Group, reason: string): void {
    if (group.state === 'PreparingRebalance') return;
    if (group.state === 'CompletingRebalance') {
      // Members waiting in the sync barrier must rejoin.
      for (const m of group.members.values()) {
        if (m.syncWaiter) {
          const w = m.syncWaiter;
          m.syncWaiter = null;
          w({ throttleTimeMs: 0, errorCode: ErrorCode.REBALANCE_IN_PROGRESS, assignment: EMPTY });
        }
      }
    }
    const wasEmpty = group.state === 'Empty';
    group.state = 'PreparingRebalance';
    this.options.log?.('group rebalancing', { group: group.id, reason, generation: group.generationId });
    let timeout = 0;
    for (const m of group.members.values()) timeout = Math.max(timeout, m.rebalanceTimeoutMs);
    if (wasEmpty && this.options.initialRebalanceDelayMs > 0) {
      timeout = Math.min(timeout, this.options.initialRebalanceDelayMs);
    }
    this.clearRebalanceTimer(group);
    group.rebalanceTimer = setTimeout(() => {
      group.rebalanceTimer = null;
      this.completeJoin(group);
    }, timeout);
    group.rebalanceTimer.unref();
    if (wasEmpty && this.options.initialRebalanceDelayMs > 0) {
      // Initial delay: do not complete early even if everyone has joined.
      group.initialDelay = true;
    }
  }

  private clearRebalanceTimer(group: Group): void {
    if (group.rebalanceTimer) clearTimeout(group.rebalanceTimer);
    group.rebalanceTimer = null;
  }

  private maybeCompleteJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    if (group.initialDelay) return;
    for (const m of group.members.values()) if (!m.joinWaiter) return;
    this.completeJoin(group);
  }

  private completeJoin(group: Group): void {
    if (group.state !== 'PreparingRebalance') return;
    group.initialDelay = false;
    this.clearRebalanceTimer(group);
    for (const m of [...group.members.values()]) {
      if (!m.joinWaiter) this.removeMember(group, m, 'did not rejoin before the rebalance timeout', false);
    }
    group.generationId++;
    if (group.members.size === 0) {
      // Kafka keeps the protocol type of a group that became empty (ListGroups shows it).
      group.state = 'Empty';
      group.protocolName = '';
      group.leaderId = '';
      return;
    }
    group.protocolName = this.selectProtocol(group);
    if (!group.members.has(group.leaderId)) group.leaderId = group.members.keys().next().value!;
    group.state = 'CompletingRebalance';
    this.options.log?.('group generation', {
      group: group.id,
      generation: group.generationId,
      members: group.members.size,
    });
    for (const m of group.members.values()) {
      const w = m.joinWaiter!;
      m.joinWaiter = null;
      m.assignment = EMPTY;
      this.touch(group, m);
      w(this.joinResponse(group, m));
    }
  }

  private selectProtocol(group: Group): string {
    const candidates = this.candidateProtocols(group);
    const votes = new Map<string, number>();
    for (const m of group.members.values()) {
      const choice = m.protocols.find((p) => candidates.has(p.name));
      if (choice) votes.set(choice.name, (votes.get(choice.name) ?? 0) + 1);
    }
    let best = '';
    let bestVotes = -1;
    for (const [name, n] of votes) {
      if (n > bestVotes) {
        best = name;
        bestVotes = n;
      }
    }
    return best;
  }

  /** (Re)starts a member's session timer. */
  private touch(group: Group, member: Member): void {
    group.membersSeenAt = Date.now();
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    if (this.closed) return;
    member.sessionTimer = setTimeout(() => {
      member.sessionTimer = null;
      if (group.members.get(member.memberId) !== member) return;
      if (member.joinWaiter || member.syncWaiter) {
        this.touch(group, member); // waiting in a barrier keeps a member alive
        return;
      }
      this.removeMember(group, member, 'session timeout', true);
    }, member.sessionTimeoutMs);
    member.sessionTimer.unref();
  }

  private removeMember(group: Group, member: Member, reason: string, rebalance: boolean): void {
    if (member.sessionTimer) clearTimeout(member.sessionTimer);
    member.sessionTimer = null;
    group.members.delete(member.memberId);
    this.options.log?.('group member removed', { group: group.id, member: member.memberId, reason });
    if (member.joinWaiter) {
      const w = member.joinWaiter;
      member.joinWaiter = null;
      w(this.joinFailure(member.memberId, ErrorCode.UNKNOWN_MEMBER_ID));
    }
    if (member.syncWaiter) {
      const w = member.syncWaiter;
      member.syncWaiter = null;
      w({ throttleTimeMs: 0, errorCode: ErrorCode.UNKNOWN_MEMBER_ID, assignment: EMPTY });
    }
    if (!rebalance) return;
    switch (group.state) {
      case 'Stable':
      case 'CompletingRebalance':
        this.prepareRebalance(group, reason);
        this.maybeCompleteJoin(group);
        break;
      case 'PreparingRebalance':
        this.maybeCompleteJoin(group);
        break;
      default:
        break;
    }
  }

  // ---- SyncGroup ----------------------------------------------------------------------------------------

  syncGroup(req: SyncGroupRequest): SyncGroupResponse | Promise<SyncGroupResponse> {
    const fail = (errorCode: number): SyncGroupResponse => ({
      throttleTimeMs: 0,
      errorCode,
      assignment: EMPTY,
    });
    if (req.groupId === '') return fail(ErrorCode.INVALID_GROUP_ID);
    const group = this.groups.get(req.groupId);
    if (!group) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    const member = group.members.get(req.memberId);
    if (!member) return fail(ErrorCode.UNKNOWN_MEMBER_ID);
    if (req.generationId !== group.generationId) return fail(ErrorCode.ILLEGAL_GENERATION);
    switch (group.state) {
      case 'Empty':
      case 'Dead':
        return fail(ErrorCode.UNKNOWN_MEMBER_ID);
      case 'PreparingRebalance':
        return fail(ErrorCode.REBALANCE_IN_PROGRESS);
      case 'Stable':
        this.touch(group, member);
        return { throttleTimeMs: 0, errorCode: ErrorCode.NONE, assignment: member.assignment };
      default:
        break;
    }
    // CompletingRebalance
    this.touch(group, member);
    return new Promise<SyncGroupResponse>((resolve) => {
      if (member.syncWaiter) member.syncWaiter(fail(ErrorCode.REBALANCE_IN_PROGRESS));
      member.syncWaiter = resolve;
      if (member.memberId !== group.leaderId) return;
      const byMember = new Map(req.assignments.map((a) => [a.memberId, a.assignment]));
      for (const m of group.members.values()) m.assignment = byMember.get(m.memberId) ?? EMPTY;
      group.state = 'Stable';
      for (const m of group.members.values()) {
        if (m.syncWaiter) {
          const w = m.syncWaiter;
          m.syncWaiter = null;
          this.touch(group, m);
          w({ throttleTimeMs: 0, errorCode: ErrorCode.NONE, assignment: m.assignment });
        }
      }
    });
  }

  // ---- Heartbeat / LeaveGroup -----------------------------------------------------------------------------

  /** As Kafka's GroupCoordinator.handleHeartbeat (classic protocol). */
  heartbeat(groupId: string, generationId: number, memberId: string): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    switch (group.state) {
      case 'Empty':
        return ErrorCode.UNKNOWN_MEMBER_ID;
      case 'CompletingRebalance':
        return ErrorCode.REBALANCE_IN_PROGRESS;
      case 'PreparingRebalance':
        this.touch(group, member);
        return ErrorCode.REBALANCE_IN_PROGRESS;
      default:
        this.touch(group, member);
        return ErrorCode.NONE;
    }
  }

  leaveGroup(groupId: string, memberId: string): number {
    if (groupId === '') return ErrorCode.INVALID_GROUP_ID;
    const group = this.groups.get(groupId);
    if (!group) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    this.removeMember(group, member, 'left the group', true);
    return ErrorCode.NONE;
  }

  // ---- Describe / List ------------------------------------------------------------------------------------

  describe(groupId: string): DescribedGroup {
    const group = this.groups.get(groupId);
    if (!group) {
      return {
        errorCode: ErrorCode.NONE,
        groupId,
        groupState: 'Dead',
        protocolType: '',
        protocolData: '',
        members: [],
      };
    }
    const stable = group.state === 'Stable';
    return {
      errorCode: ErrorCode.NONE,
      groupId,
      groupState: group.state,
      protocolType: group.protocolType,
      protocolData: stable ? group.protocolName : '',
      members: [...group.members.values()].map((m) => ({
        memberId: m.memberId,
        clientId: m.clientId,
        clientHost: m.clientHost,
        memberMetadata: stable
          ? (m.protocols.find((p) => p.name === group.protocolName)?.metadata ?? EMPTY)
          : EMPTY,
        memberAssignment: stable ? m.assignment : EMPTY,
      })),
    };
  }

  list(): { groupId: string; protocolType: string }[] {
    const out: { groupId: string; protocolType: string }[] = [];
    for (const g of this.groups.values()) {
      if (g.state !== 'Dead') out.push({ groupId: g.id, protocolType: g.protocolType });
    }
    return out;
  }

  // ---- Offsets ---------------------------------------------------------------------------------------------

  /**
   * Validates an OffsetCommit against the group's membership, in Kafka's order; returns NONE when the commit
   * may proceed. An empty group id is allowed (Kafka keeps it for old clients).
   */
  checkCommit(groupId: string, generationId: number, memberId: string): number {
    const group = this.groups.get(groupId);
    if (!group) return generationId < 0 ? ErrorCode.NONE : ErrorCode.ILLEGAL_GENERATION;
    if (group.state === 'Dead') return ErrorCode.COORDINATOR_NOT_AVAILABLE;
    if (generationId < 0 && group.state === 'Empty') return ErrorCode.NONE;
    const member = group.members.get(memberId);
    if (!member) return ErrorCode.UNKNOWN_MEMBER_ID;
    if (generationId !== group.generationId) return ErrorCode.ILLEGAL_GENERATION;
    if (group.state === 'CompletingRebalance') return ErrorCode.REBALANCE_IN_PROGRESS;
    this.touch(group, member);
    return ErrorCode.NONE;
  }

  commitOffset(
    groupId: string,
    topic: string,
    partition: number,
    offset: number,
    metadata: string | null,
  ): number {
    if (metadata !== null && metadata.length > this.options.maxMetadataBytes) {
      return ErrorCode.OFFSET_METADATA_TOO_LARGE;
    }
    const group = this.group(groupId, true)!;
    let byPartition = group.offsets.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      group.offsets.set(topic, byPartition);
    }
    const value = { offset, metadata, commitTimestamp: Date.now() };
    byPartition.set(partition, value);
    this.options.onCommit?.(groupId, topic, partition, value);
    return ErrorCode.NONE;
  }

  /** Restores an offset from disk without persisting it again. */
  restoreOffset(groupId: string, topic: string, partition: number, value: CommittedOffset | null): void {
    const group = this.group(groupId, true)!;
    let byPartition = group.offsets.get(topic);
    if (!byPartition) {
      byPartition = new Map();
      group.offsets.set(topic, byPartition);
    }
    if (value) byPartition.set(partition, value);
    else byPartition.delete(partition);
  }

  fetchOffset(groupId: string, topic: string, partition: number): CommittedOffset | undefined {
    return this.groups.get(groupId)?.offsets.get(topic)?.get(partition);
  }

  /** Forgets a deleted topic's offsets in every group. */
  deleteTopicOffsets(topic: string): void {
    for (const g of this.groups.values()) {
      const byPartition = g.offsets.get(topic);
      if (!byPartition) continue;
      for (const p of byPartition.keys()) this.options.onCommit?.(g.id, topic, p, null);
      g.offsets.delete(topic);
    }
  }

  /**
   * Deletes the committed offsets of groups without members whose commit and last member are both older than the
   * retention, and forgets a group left with neither members nor offsets. Returns how many offsets it deleted.
   */
  expireOffsets(now: number): number {
    const retention = this.options.offsetsRetentionMs ?? 7 * 24 * 3600 * 1000;
    if (retention < 0) return 0;
    let expired = 0;
    for (const [id, g] of this.groups) {
      if (g.members.size > 0 || g.state !== 'Empty') continue;
      if (now - g.membersSeenAt <= retention) continue;
      for (const [topic, byPartition] of g.offsets) {
        for (const [partition, value] of byPartition) {
          if (now - value.commitTimestamp <= retention) continue;
          byPartition.delete(partition);
          this.options.onCommit?.(id, topic, partition, null);
          expired++;
        }
        if (byPartition.size === 0) g.offsets.delete(topic);
      }
      if (g.offsets.size === 0) {
        this.clearRebalanceTimer(g);
        this.groups.delete(id);
      }
    }
    return expired;
  }

  groupState(groupId: string): GroupState | undefined {
    return this.groups.get(groupId)?.state;
  }

  close(): void {
    this.closed = true;
    for (const g of this.groups.values()) {
      this.clearRebalanceTimer(g);
      for (const m of g.members.values()) {
        if (m.sessionTimer) clearTimeout(m.sessionTimer);
        m.sessionTimer = null;
      }
    }
  }
}
