/**
 * The executable behind trepctl, thl, dsctl and cctrl in a tsim host's binDir (bundled once per
 * test run by bin-scripts.ts, started as `node tsim-cli.js PORT TOOL args…`). Node builtins only:
 * it starts in a few tens of milliseconds, which matters because runbooks call it over SSH often.
 */
import { connect } from 'node:net';

const [portText, tool, ...argv] = process.argv.slice(2);
const socket = connect(Number(portText), '127.0.0.1');
let buffer = '';
let exitCode: number | undefined;
let stdinStarted = false;

function startStdin(): void {
  if (stdinStarted) return;
  stdinStarted = true;
  process.stdin.on('data', (chunk: Buffer) =>
    socket.write(`${JSON.stringify({ i: chunk.toString('utf8') })}\n`),
  );
  process.stdin.on('end', () => socket.write(`${JSON.stringify({ eof: true })}\n`));
  process.stdin.on('error', () => socket.write(`${JSON.stringify({ eof: true })}\n`));
}

socket.on('connect', () => socket.write(`${JSON.stringify({ tool, argv })}\n`));
socket.on('data', (chunk: Buffer) => {
  buffer += chunk.toString('utf8');
  for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
    const msg = JSON.parse(buffer.slice(0, nl)) as { o?: string; e?: string; x?: number; want?: boolean };
    buffer = buffer.slice(nl + 1);
    if (msg.o !== undefined) process.stdout.write(msg.o);
    if (msg.e !== undefined) process.stderr.write(msg.e);
    if (msg.want) startStdin();
    if (msg.x !== undefined) exitCode = msg.x;
  }
});
socket.on('error', (err: NodeJS.ErrnoException) => {
  // sim-defined texts: what each tool says when its daemon does not answer.
  const why = err.code === 'ECONNREFUSED' ? 'Connection refused' : err.message;
  if (tool === 'cctrl')
    process.stderr.write(`ERROR: Unable to connect to the manager at 127.0.0.1:${portText}: ${why}\n`);
  else process.stderr.write(`${tool}: unable to connect to the tsim daemon: ${why}\n`);
  process.exit(1);
});
socket.on('close', () => {
  const done = () => process.exit(exitCode ?? 1);
  // Let stdout drain before leaving.
  if (process.stdout.writableLength > 0) process.stdout.once('drain', done);
  else done();
});
