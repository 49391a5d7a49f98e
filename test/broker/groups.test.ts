/**
 * Consumer groups with three members: two kafkajs consumers in this process and one in a child process.
 * Rebalance on join, on leave, and on a crash (the child is SIGKILLed; its session times out).
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { Consumer, Kafka } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestBroker, type TestBroker } from '../support/broker.ts';
import { FAST_GROUP, kafkaClient, unique, waitFor } from './support/kafka.ts';

const MEMBER = fileURLToPath(new URL('./support/member.ts', import.meta.url));

describe('consumer groups', () => {
  let broker: TestBroker;
  let kafka: Kafka;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    broker = await startTestBroker();
    kafka = kafkaClient(broker.brokers);
  });
  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await broker?.close();
  });

  it('three members: rebalance on join, leave and crash; every message consumed', async () => {
    const topic = unique('grp');
    const groupId = unique('g');
    const admin = kafka.admin();
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: 6 }] });
    const producer = kafka.producer();
    await producer.connect();

    const assignments = new Map<string, number[]>();
    const received = new Map<string, Set<string>>(); // "p:o" -> members
    const record = (who: string, p: number, o: string) => {
      const key = `${p}:${o}`;
      const set = received.get(key) ?? new Set<string>();
      set.add(who);
      received.set(key, set);
    };
    const startConsumer = async (name: string): Promise<Consumer> => {
      const c = kafka.consumer({ groupId, ...FAST_GROUP });
      c.on(c.events.GROUP_JOIN, (e) => {
        assignments.set(name, (e.payload.memberAssignment[topic] as number[] | undefined) ?? []);
      });
      await c.connect();
      await c.subscribe({ topic, fromBeginning: true });
      await c.run({ eachMessage: async ({ partition, message }) => record(name, partition, message.offset) });
      return c;
    };
    const describe = async () => (await admin.describeGroups([groupId])).groups[0]!;
    const stableWith = (n: number) => async () => {
      const g = await describe();
      return g.state === 'Stable' && g.members.length === n;
    };
    let sent = 0;
    const produce = async (n: number) => {
      await producer.send({
        topic,
        messages: Array.from({ length: n }, (_, i) => ({ partition: (sent + i) % 6, value: `m${sent + i}` })),
      });
      sent += n;
    };

    // One member owns all six partitions.
    const a = await startConsumer('a');
    await waitFor(stableWith(1), 10_000, 'one member');
    await waitFor(() => assignments.get('a')?.length === 6, 5000, 'a owns 6');
    await produce(12);

    // A second in-process member and a third in a child process join: 2 partitions each.
    const b = await startConsumer('b');
    const child = spawn(process.execPath, ['--import', 'tsx', MEMBER], {
      env: { ...process.env, BROKERS: broker.brokers.join(','), GROUP: groupId, TOPIC: topic },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    let childAssigned: number[] = [];
    let childBuffer = '';
    child.stdout!.on('data', (d: Buffer) => {
      childBuffer += d.toString();
      let nl = childBuffer.indexOf('\n');
      while (nl >= 0) {
        const line = childBuffer.slice(0, nl);
        childBuffer = childBuffer.slice(nl + 1);
        if (line.startsWith('assigned ')) childAssigned = JSON.parse(line.slice(9))[topic] ?? [];
        if (line.startsWith('message ')) {
          const [, p, o] = line.split(' ');
          record('child', Number(p), o!);
        }
        nl = childBuffer.indexOf('\n');
      }
    });
    await waitFor(stableWith(3), 20_000, 'three members');
    await waitFor(
      () =>
        assignments.get('a')?.length === 2 &&
        assignments.get('b')?.length === 2 &&
        childAssigned.length === 2,
      10_000,
      'two partitions each',
    );
    const g3 = await describe();
    expect(g3.protocol).toBe('RoundRobinAssigner');
    expect(new Set([...assignments.get('a')!, ...assignments.get('b')!, ...childAssigned]).size).toBe(6);
    await produce(12);
    await waitFor(() => received.size === 24, 10_000, '24 messages');

    // Crash: SIGKILL the child; its session expires and a and b take over its partitions.
    child.kill('SIGKILL');
    await waitFor(stableWith(2), 15_000, 'crashed member expired');
    await waitFor(
      () => assignments.get('a')?.length === 3 && assignments.get('b')?.length === 3,
      10_000,
      'three partitions each',
    );
    await produce(12);
    await waitFor(() => received.size === 36, 10_000, '36 messages');

    // Leave: b disconnects (LeaveGroup); a owns everything again.
    await b.disconnect();
    await waitFor(stableWith(1), 10_000, 'b left');
    await waitFor(() => assignments.get('a')?.length === 6, 10_000, 'a owns 6 again');
    await produce(12);
    await waitFor(() => received.size === 48, 10_000, '48 messages');
    expect(sent).toBe(48);

    await a.disconnect();
    expect((await describe()).state).toBe('Empty');
    await producer.disconnect();
    await admin.disconnect();
  });
});
