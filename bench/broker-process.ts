/**
 * The embedded broker in a child process, so a benchmark's consumer does not share the broker's event loop.
 * Stop it with `child.kill('SIGTERM')`.
 */
import { type ChildProcess, spawn } from 'node:child_process';

export async function startBrokerProcess(
  partitions: number,
): Promise<{ address: string; child: ChildProcess }> {
  const code = `const { startBroker } = await import('./src/broker/index.ts');
    const h = await startBroker({ port: 0, defaultPartitions: ${partitions} });
    process.stdout.write(h.address + '\\n');
    process.on('SIGTERM', () => h.close().then(() => process.exit(0)));`;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', code], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const address = await new Promise<string>((resolve, reject) => {
    child.stdout?.once('data', (d: Buffer) => resolve(d.toString().trim()));
    child.once('exit', (c) => reject(new Error(`broker exited with ${c}`)));
  });
  return { address, child };
}
