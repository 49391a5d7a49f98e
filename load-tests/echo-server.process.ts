/** Child-process entry of the echo server: options as JSON in argv[2]; prints `{"port":N}` once listening. */
import { type EchoServerOptions, startEchoServer } from './echo-server.ts';

const options = JSON.parse(process.argv[2] ?? '{}') as EchoServerOptions;
const server = await startEchoServer(options);
process.stdout.write(`${JSON.stringify({ port: server.port })}\n`);
const stop = () => {
  void server.close().then(() => process.exit(0));
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// The parent holds our stdin open; when it goes away, so do we.
process.stdin.on('end', stop);
process.stdin.resume();
