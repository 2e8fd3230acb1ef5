import { createServer, type Server, type Socket } from 'node:net';

/**
 * The wire between the tiny CLI client (cli-client.ts, run over SSH) and the in-test daemons:
 * newline-delimited JSON. Client → server: `{tool, argv}` first, then `{i: chunk}` / `{eof: true}`
 * once the server asked for stdin with `{want: true}`. Server → client: `{o}` stdout, `{e}`
 * stderr, `{x}` exit code (last message). sim-defined.
 */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** One line of stdin without its newline; undefined at end of input. */
  readLine(): Promise<string | undefined>;
}

export type CliHandler = (tool: string, argv: string[], io: CliIo) => Promise<number>;

export interface CliServer {
  port: number;
  close(): Promise<void>;
}

export async function startCliServer(handler: CliHandler, port = 0): Promise<CliServer> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    serve(socket, handler);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', resolve);
  });
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('tsim CLI server has no port');
  return {
    port: address.port,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function serve(socket: Socket, handler: CliHandler): void {
  let buffer = '';
  let started = false;
  let stdin = '';
  let eof = false;
  let asked = false;
  let waiter: (() => void) | undefined;
  const send = (msg: object) => {
    if (!socket.destroyed) socket.write(`${JSON.stringify(msg)}\n`);
  };
  const io: CliIo = {
    out: (o) => send({ o }),
    err: (e) => send({ e }),
    readLine: async () => {
      if (!asked) {
        asked = true;
        send({ want: true });
      }
      for (;;) {
        const nl = stdin.indexOf('\n');
        if (nl >= 0) {
          const line = stdin.slice(0, nl).replace(/\r$/, '');
          stdin = stdin.slice(nl + 1);
          return line;
        }
        if (eof) {
          if (stdin === '') return undefined;
          const line = stdin;
          stdin = '';
          return line;
        }
        await new Promise<void>((resolve) => (waiter = resolve));
      }
    },
  };
  socket.on('close', () => {
    eof = true;
    waiter?.();
  });
  socket.on('data', (chunk: Buffer) => {
    buffer += chunk.toString('utf8');
    for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
      const line = buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
      let msg: { tool?: string; argv?: string[]; i?: string; eof?: boolean };
      try {
        msg = JSON.parse(line) as typeof msg;
      } catch {
        socket.destroy();
        return;
      }
      if (!started) {
        started = true;
        const tool = String(msg.tool ?? '');
        const argv = Array.isArray(msg.argv) ? msg.argv.map(String) : [];
        void handler(tool, argv, io)
          .catch((err: unknown) => {
            io.err(`tsim internal error: ${err instanceof Error ? err.stack : String(err)}\n`);
            return 99;
          })
          .then((x) => {
            send({ x });
            socket.end();
          });
        continue;
      }
      if (typeof msg.i === 'string') stdin += msg.i;
      if (msg.eof) eof = true;
      waiter?.();
    }
  });
}
