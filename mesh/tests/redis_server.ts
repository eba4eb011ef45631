/**
 * A real `redis-server` for tests: spawned on a free loopback port without
 * persistence, stopped and restarted on demand.
 *
 * @module
 */

/** A running test Redis. */
export interface RedisServer {
  /** `redis://127.0.0.1:{port}`. */
  readonly url: string;
  /** Port it listens on (kept across restarts). */
  readonly port: number;
  /** Kills the server and waits for it to exit (idempotent). */
  stop(): Promise<void>;
  /** Stops the server and starts a fresh, empty one on the same port. */
  restart(): Promise<void>;
}

/** Longest wait for a fresh server to answer PING. */
const READY_TIMEOUT_MS = 20_000;

const INSTALL_HINT =
  "redis-server is not installed; install it with `apt-get install -y redis-server`";

function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const { port } = listener.addr;
  listener.close();
  return port;
}

/** True when a Redis on `port` answers `PING` with `+PONG`. */
async function answersPing(port: number): Promise<boolean> {
  let connection: Deno.TcpConn | undefined;
  try {
    connection = await Deno.connect({ hostname: "127.0.0.1", port });
    await connection.write(new TextEncoder().encode("PING\r\n"));
    const buffer = new Uint8Array(64);
    const read = await connection.read(buffer);
    return read !== null && new TextDecoder().decode(buffer.subarray(0, read)).startsWith("+PONG");
  } catch {
    return false;
  } finally {
    connection?.close();
  }
}

/** One `redis-server` process with its output collected (shown if it fails to start). */
class RedisProcess {
  #child: Deno.ChildProcess;
  #output: Promise<string>;
  #exited = false;
  #stopped?: Promise<void>;

  constructor(port: number) {
    try {
      this.#child = new Deno.Command("redis-server", {
        args: ["--port", `${port}`, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdin: "null",
        stdout: "piped",
        stderr: "piped",
      }).spawn();
    } catch (error) {
      if (error instanceof Deno.errors.NotFound) throw new Error(INSTALL_HINT);
      throw error;
    }
    this.#child.status.then(() => this.#exited = true);
    const text = (stream: ReadableStream<Uint8Array>) => new Response(stream).text();
    this.#output = Promise.all([text(this.#child.stdout), text(this.#child.stderr)])
      .then((parts) => parts.join(""));
  }

  /** Waits until the server answers PING; throws with its output if it exits or never answers. */
  async ready(port: number): Promise<void> {
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (!this.#exited && Date.now() < deadline) {
      if (await answersPing(port)) return;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    await this.stop();
    const why = this.#exited ? "exited" : "did not answer PING";
    throw new Error(`redis-server on port ${port} ${why}; output:\n${await this.#output}`);
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      if (!this.#exited) this.#child.kill("SIGKILL");
      await this.#child.status;
      await this.#output;
    })();
    return this.#stopped;
  }
}

/**
 * Starts `redis-server` on a free loopback port (no RDB, no AOF) and waits
 * until it answers PING. Throws, naming `apt-get install -y redis-server`,
 * when the binary is missing.
 */
export async function startRedis(): Promise<RedisServer> {
  const port = freePort();
  let current = new RedisProcess(port);
  await current.ready(port);
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    stop: () => current.stop(),
    async restart(): Promise<void> {
      await current.stop();
      current = new RedisProcess(port);
      await current.ready(port);
    },
  };
}
