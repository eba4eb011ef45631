/**
 * A keep-alive HTTP/1.1 client for the proxies' calls to plain-`http`
 * providers: {@linkcode HttpClient}. It does one thing, `POST` with a string
 * body, at a fraction of `fetch`'s cost per request: connections are pooled
 * per host, the request is written in one piece, and an answer of known
 * length is read whole before the call resolves. Answers without a length
 * (chunked or closed-delimited, such as a streamed SSE answer) are read as a
 * stream.
 *
 * An idle pooled connection keeps a read pending, so a server that closes it
 * is noticed at once and the connection is dropped, and a connection idle for
 * 4 s is not reused (common servers close idle connections after 5 s). A
 * request is never sent twice: a connection that closes after the request
 * went out is an error, since the server may have run it. Failures before
 * anything was sent are {@linkcode NotSentError}s, which callers may retry
 * anywhere.
 *
 * @module
 */

/** The part of a `Response` a proxy reads: what both `fetch` and {@linkcode HttpClient} give. */
export interface HttpAnswer {
  /** HTTP status code. */
  readonly status: number;
  /** True for a 2xx status. */
  readonly ok: boolean;
  /** The answer's headers (names are case-insensitive). */
  readonly headers: { get(name: string): string | null; has(name: string): boolean };
  /** The body as a stream (null when read another way first). */
  readonly body: ReadableStream<Uint8Array> | null;
  /** The whole body as text. */
  text(): Promise<string>;
  /** The whole body parsed as JSON. */
  json(): Promise<unknown>;
}

/** Settings of an {@linkcode HttpClient}. */
export interface HttpClientOptions {
  /** Idle connections kept per host (default 64); more are closed when released. */
  maxIdlePerHost?: number;
  /**
   * An idle connection older than this is closed instead of reused (ms,
   * default 4,000: below the 5 s idle timeout of Node and uvicorn servers,
   * so a request never races a server closing its connection).
   */
  idleTimeoutMs?: number;
}

const READ_SIZE = 16 * 1024;
const MAX_HEAD_BYTES = 64 * 1024;
/** A cancelled chunked body is drained to keep its connection when it ends within these. */
const DRAIN_LIMIT_BYTES = 64 * 1024;
const DRAIN_LIMIT_MS = 1_000;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
/** Header bytes are Latin-1 text (as `fetch` reads them). */
const latin1 = new TextDecoder("latin1");
/** A header name (RFC 9110 token) and value (visible Latin-1 and blanks, as `fetch` allows). */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const NON_ASCII = /[^ -~\t\r\n]/;
/** Headers the client writes itself (framing and the connection's own). */
const OWN_HEADERS = new Set([
  "host",
  "content-length",
  "transfer-encoding",
  "connection",
  "keep-alive",
]);

/** Where a URL's requests go: the connection key, host header and path. */
interface Target {
  hostname: string;
  port: number;
  key: string;
  host: string;
  path: string;
}

/** The status line and headers of an answer. */
interface Head {
  status: number;
  headers: AnswerHeaders;
  keepAlive: boolean;
}

/**
 * The request never reached the server (the connection failed, or writing
 * the request did): retrying it, anywhere, cannot run it twice.
 */
export class NotSentError extends Error {
  /** `message` names the cause. */
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "NotSentError";
  }
}

/** One TCP connection and its read buffer. */
class Connection {
  readonly conn: Deno.TcpConn;
  readonly key: string;
  /** Buffered bytes not yet consumed are `buffer[start, end)`. */
  buffer: Uint8Array = new Uint8Array(READ_SIZE);
  start = 0;
  end = 0;
  idleSince = 0;
  /** In the pool, waiting for a request. */
  idle = false;
  closed = false;
  /** The read started while the connection was idle. */
  pending: Promise<number | null> | undefined;

  constructor(conn: Deno.TcpConn, key: string) {
    this.conn = conn;
    this.key = key;
  }

  /** Reads more bytes into the buffer; resolves false at end of stream. */
  async fill(): Promise<boolean> {
    if (this.start === this.end) this.start = this.end = 0;
    if (this.end === this.buffer.length) {
      if (this.start > 0) {
        this.buffer.copyWithin(0, this.start, this.end);
      } else {
        const grown = new Uint8Array(this.buffer.length * 2);
        grown.set(this.buffer);
        this.buffer = grown;
      }
      this.end -= this.start;
      this.start = 0;
    }
    const read = this.pending ?? this.conn.read(this.buffer.subarray(this.end));
    this.pending = undefined;
    const count = await read;
    if (count === null) return false;
    this.end += count;
    return true;
  }

  /** Takes up to `count` buffered bytes. */
  take(count: number): Uint8Array {
    const taken = this.buffer.subarray(this.start, Math.min(this.end, this.start + count));
    this.start += taken.length;
    return taken;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.conn.close();
    } catch {
      // Already closed by the runtime.
    }
  }
}

/**
 * A pool of keep-alive HTTP/1.1 connections for `POST` requests to `http:`
 * URLs. Close it to close every connection.
 *
 * @example
 * ```ts ignore
 * import { HttpClient } from "./http_client.ts";
 * const client = new HttpClient();
 * const answer = await client.post(
 *   "http://127.0.0.1:9000/mcp",
 *   { "Content-Type": "application/json" },
 *   "{}",
 *   AbortSignal.timeout(5_000),
 * );
 * console.log(answer.status, await answer.text());
 * client.close();
 * ```
 */
export class HttpClient {
  readonly #idle = new Map<string, Connection[]>();
  readonly #busy = new Set<Connection>();
  readonly #targets = new Map<string, Target>();
  readonly #maxIdlePerHost: number;
  readonly #idleTimeoutMs: number;
  #lastSweep = 0;
  #closed = false;

  /** Creates an empty pool. */
  constructor(options: HttpClientOptions = {}) {
    this.#maxIdlePerHost = options.maxIdlePerHost ?? 64;
    this.#idleTimeoutMs = options.idleTimeoutMs ?? 4_000;
  }

  /** Connections open now, idle or carrying a request (for tests and diagnostics). */
  get openConnections(): number {
    return this.#busy.size + this.idleConnections;
  }

  /** Connections in the pool waiting for a request (for tests and diagnostics). */
  get idleConnections(): number {
    let count = 0;
    for (const list of this.#idle.values()) count += list.length;
    return count;
  }

  /**
   * Sends `POST url` with `headers` and `body`. Resolves once the answer's
   * head (and, when its length is known, its whole body) has arrived; rejects
   * with the connection's error, or with `signal.reason` when it aborts.
   */
  async post(
    url: string,
    headers: Record<string, string>,
    body: string,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    if (this.#closed) throw new Error("HttpClient is closed");
    signal.throwIfAborted();
    const target = this.#target(url);
    const request = encodeRequest(target, headers, body);
    const connection = this.#idleConnection(target.key) ?? await this.#connect(target, signal);
    return await this.#exchange(connection, request, signal);
  }

  /** Closes every connection; requests in flight reject. */
  close(): void {
    this.#closed = true;
    for (const list of this.#idle.values()) for (const connection of list) connection.close();
    this.#idle.clear();
    for (const connection of this.#busy) connection.close();
    this.#busy.clear();
  }

  #target(url: string): Target {
    let target = this.#targets.get(url);
    if (target !== undefined) return target;
    const parsed = new URL(url);
    if (parsed.protocol !== "http:") throw new TypeError(`HttpClient speaks http only: ${url}`);
    const port = Number(parsed.port || 80);
    const hostname = parsed.hostname.replace(/^\[(.*)\]$/, "$1");
    target = {
      hostname,
      port,
      key: `${hostname}:${port}`,
      host: parsed.host,
      path: parsed.pathname + parsed.search,
    };
    if (this.#targets.size >= 1_000) this.#targets.clear();
    this.#targets.set(url, target);
    return target;
  }

  /** The most recently released live connection to `key`, if any. */
  #idleConnection(key: string): Connection | undefined {
    const list = this.#idle.get(key);
    if (list === undefined) return undefined;
    const now = Date.now();
    for (let connection = list.pop(); connection !== undefined; connection = list.pop()) {
      connection.idle = false;
      if (now - connection.idleSince <= this.#idleTimeoutMs) {
        connection.conn.ref();
        this.#busy.add(connection);
        return connection;
      }
      connection.close();
    }
    return undefined;
  }

  /** Opens a connection; an abort rejects at once (a late connection is closed). */
  async #connect(target: Target, signal: AbortSignal): Promise<Connection> {
    const connecting = Deno.connect({ hostname: target.hostname, port: target.port })
      .catch((error) => {
        throw new NotSentError(error instanceof Error ? error.message : String(error), {
          cause: error,
        });
      });
    let onAbort!: () => void;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(signal.reason);
      signal.addEventListener("abort", onAbort, { once: true });
    });
    let conn: Deno.TcpConn;
    try {
      conn = await Promise.race([connecting, aborted]);
    } catch (error) {
      if (signal.aborted) connecting.then((late) => late.close(), () => {});
      throw error;
    } finally {
      signal.removeEventListener("abort", onAbort);
    }
    const connection = new Connection(conn, target.key);
    if (this.#closed) {
      connection.close();
      throw new Error("HttpClient is closed");
    }
    conn.setNoDelay(true);
    this.#busy.add(connection);
    return connection;
  }

  /** Writes the request and reads the answer's head, and its body when its length is known. */
  async #exchange(
    connection: Connection,
    request: Uint8Array,
    signal: AbortSignal,
  ): Promise<HttpAnswer> {
    const onAbort = () => connection.close();
    signal.addEventListener("abort", onAbort, { once: true });
    let streaming = false;
    try {
      try {
        await writeAll(connection.conn, request);
      } catch (error) {
        if (signal.aborted || connection.closed) throw error;
        throw new NotSentError(`writing the request failed: ${(error as Error).message}`, {
          cause: error,
        });
      }
      const head = await readHead(connection);
      // A transfer coding overrides any content-length (RFC 9112 §6.3).
      const chunked = /chunked/i.test(head.headers.get("transfer-encoding") ?? "");
      // 204 and 304 answers have no body, whatever they say (RFC 9112 §6.3).
      const length = head.status === 204 || head.status === 304
        ? 0
        : chunked
        ? undefined
        : contentLength(head.headers.get("content-length"));
      if (length !== undefined) {
        const bytes = await readFixed(connection, length);
        this.#release(connection, head.keepAlive);
        return new FixedAnswer(head, bytes);
      }
      streaming = true;
      return new StreamedAnswer(
        head,
        bodyStream(
          connection,
          chunked,
          signal,
          onAbort,
          (reusable) => this.#release(connection, reusable && head.keepAlive),
        ),
      );
    } catch (error) {
      this.#discard(connection);
      if (signal.aborted) throw signal.reason;
      if (
        connection.closed &&
        (error instanceof Deno.errors.BadResource || error instanceof Deno.errors.Interrupted)
      ) {
        throw new Error("connection closed while the request was in flight");
      }
      throw error;
    } finally {
      if (!streaming) signal.removeEventListener("abort", onAbort);
    }
  }

  /** Returns a connection to the pool, or closes it when it cannot carry another request. */
  #release(connection: Connection, reusable: boolean): void {
    this.#busy.delete(connection);
    if (
      !reusable || this.#closed || connection.closed || connection.start !== connection.end
    ) {
      connection.close();
      return;
    }
    let list = this.#idle.get(connection.key);
    if (list === undefined) this.#idle.set(connection.key, list = []);
    if (list.length >= this.#maxIdlePerHost) {
      connection.close();
      return;
    }
    const now = Date.now();
    connection.start = connection.end = 0;
    connection.idleSince = now;
    connection.idle = true;
    list.push(connection);
    if (now - this.#lastSweep > this.#idleTimeoutMs) this.#sweep(now);
    connection.conn.unref();
    // A read kept pending while idle notices a server closing the connection.
    const pending = connection.conn.read(connection.buffer);
    connection.pending = pending;
    const dropIfIdle = () => this.#dropIfIdle(connection);
    pending.then(dropIfIdle, dropIfIdle);
  }

  /**
   * Closes the idle connections past the idle timeout on every host, so hosts
   * no longer called keep none open (runs at most once per timeout).
   */
  #sweep(now: number): void {
    this.#lastSweep = now;
    for (const [key, list] of this.#idle) {
      const fresh = list.filter((connection) => {
        if (now - connection.idleSince <= this.#idleTimeoutMs) return true;
        connection.idle = false;
        connection.close();
        return false;
      });
      if (fresh.length > 0) this.#idle.set(key, fresh);
      else this.#idle.delete(key);
    }
  }

  /**
   * Closes an idle connection whose pending read completed: the server closed
   * it, or sent stray bytes. A connection taken by a request meanwhile is
   * left alone: the request reads that result.
   */
  #dropIfIdle(connection: Connection): void {
    if (!connection.idle) return;
    connection.idle = false;
    connection.pending = undefined;
    const list = this.#idle.get(connection.key);
    const position = list?.indexOf(connection) ?? -1;
    if (position >= 0) list!.splice(position, 1);
    connection.close();
  }

  #discard(connection: Connection): void {
    this.#busy.delete(connection);
    connection.close();
  }
}

/** The request's bytes: head and body in one buffer, written with one call. */
function encodeRequest(target: Target, headers: Record<string, string>, body: string): Uint8Array {
  const bodyBytes = encoder.encode(body);
  let head =
    `POST ${target.path} HTTP/1.1\r\nhost: ${target.host}\r\ncontent-length: ${bodyBytes.length}\r\n`;
  for (const name in headers) {
    const value = String(headers[name]);
    if (!HEADER_NAME.test(name) || !HEADER_VALUE.test(value)) {
      throw new TypeError(`invalid HTTP header: ${JSON.stringify(name)}`);
    }
    if (!OWN_HEADERS.has(name.toLowerCase())) head += `${name}: ${value}\r\n`;
  }
  head += "\r\n";
  const request = new Uint8Array(head.length + bodyBytes.length);
  // Header text is Latin-1 (one byte per character), as fetch sends it.
  if (!NON_ASCII.test(head)) encoder.encodeInto(head, request);
  else for (let i = 0; i < head.length; i++) request[i] = head.charCodeAt(i);
  request.set(bodyBytes, head.length);
  return request;
}

async function writeAll(conn: Deno.TcpConn, bytes: Uint8Array): Promise<void> {
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

/** Position of the first "\r\n\r\n" in `buffer[from, to)`, or -1. */
function headEnd(buffer: Uint8Array, from: number, to: number): number {
  for (let i = buffer.indexOf(13, from); i >= 0 && i + 3 < to; i = buffer.indexOf(13, i + 1)) {
    if (buffer[i + 1] === 10 && buffer[i + 2] === 13 && buffer[i + 3] === 10) return i;
  }
  return -1;
}

/** Reads and parses the answer's status line and headers, skipping 1xx answers. */
async function readHead(connection: Connection): Promise<Head> {
  // How far past `start` the search for the head's end got (`fill` may move `start`).
  let searched = 0;
  for (;;) {
    const end = headEnd(connection.buffer, connection.start + searched, connection.end);
    if (end >= 0) {
      const head = parseHead(latin1.decode(connection.buffer.subarray(connection.start, end)));
      connection.start = end + 4;
      searched = 0;
      if (head.status >= 200) return head;
      continue;
    }
    if (connection.end - connection.start > MAX_HEAD_BYTES) {
      throw new Error("the answer's head is larger than 64 KiB");
    }
    searched = Math.max(0, connection.end - connection.start - 3);
    if (!(await connection.fill())) {
      throw new Error("the server closed the connection before answering");
    }
  }
}

/** A content-length value as a byte count (identical repeats allowed, RFC 9110 §8.6). */
function contentLength(value: string | null): number | undefined {
  if (value === null) return undefined;
  const [first, ...rest] = value.split(",").map((part) => part.trim());
  if (!/^\d{1,15}$/.test(first) || rest.some((other) => other !== first)) {
    throw new Error(`invalid content-length: ${value}`);
  }
  return Number(first);
}

function parseHead(text: string): Head {
  const lineEnd = text.indexOf("\r\n");
  const statusLine = lineEnd < 0 ? text : text.slice(0, lineEnd);
  const match = /^HTTP\/1\.([01]) (\d{3})/.exec(statusLine);
  if (match === null) throw new Error(`not an HTTP/1.x answer: ${statusLine.slice(0, 80)}`);
  const headers = new AnswerHeaders(lineEnd < 0 ? "" : text.slice(lineEnd));
  const connection = headers.get("connection") ?? "";
  const keepAlive = match[1] === "1"
    ? !/(?:^|,)\s*close\s*(?:,|$)/i.test(connection)
    : /(?:^|,)\s*keep-alive\s*(?:,|$)/i.test(connection);
  return { status: Number(match[2]), headers, keepAlive };
}

/** Reads a body of `length` bytes. */
async function readFixed(connection: Connection, length: number): Promise<Uint8Array> {
  if (connection.end - connection.start >= length) return connection.take(length).slice();
  const body = new Uint8Array(length);
  let filled = 0;
  const buffered = connection.take(length);
  body.set(buffered);
  filled += buffered.length;
  while (filled < length) {
    const count = await connection.conn.read(body.subarray(filled));
    if (count === null) throw new Error("the server closed the connection mid-answer");
    filled += count;
  }
  return body;
}

/**
 * The body of an answer without a length: chunked, or up to the end of the
 * connection. `done(reusable)` runs once, when the body ended or failed.
 * Cancelling a chunked body drains the rest in the background (at most
 * {@linkcode DRAIN_LIMIT_BYTES} within {@linkcode DRAIN_LIMIT_MS}), so an
 * answer read up to its last event keeps its connection.
 */
function bodyStream(
  connection: Connection,
  chunked: boolean,
  signal: AbortSignal,
  onAbort: () => void,
  done: (reusable: boolean) => void,
): ReadableStream<Uint8Array> {
  let finished = false;
  const finish = (reusable: boolean) => {
    if (finished) return;
    finished = true;
    signal.removeEventListener("abort", onAbort);
    done(reusable);
  };
  const next = chunked ? chunkReader(connection) : () => readUntilClosed(connection);
  let cancelled = false;
  let reading: Promise<void> = Promise.resolve();
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      reading = (async () => {
        try {
          const piece = await next();
          if (cancelled) return;
          if (piece !== null) {
            controller.enqueue(piece);
            return;
          }
          finish(chunked);
          controller.close();
        } catch (error) {
          if (cancelled) return;
          finish(false);
          controller.error(signal.aborted ? signal.reason : error);
        }
      })();
      return reading;
    },
    cancel() {
      cancelled = true;
      if (!chunked) {
        connection.close();
        return finish(false);
      }
      const timer = setTimeout(() => connection.close(), DRAIN_LIMIT_MS);
      reading.then(async () => {
        let drained = 0;
        for (let piece = await next(); piece !== null; piece = await next()) {
          drained += piece.length;
          if (drained > DRAIN_LIMIT_BYTES) throw new Error("too long to drain");
        }
      }).then(() => finish(true), () => {
        connection.close();
        finish(false);
      }).finally(() => clearTimeout(timer));
    },
  });
}

/** The next piece of a chunked body, or null once it ended (trailers read). */
function chunkReader(connection: Connection): () => Promise<Uint8Array | null> {
  let remaining = 0; // bytes left in the current chunk
  return async () => {
    if (remaining === 0) {
      const size = await readChunkSize(connection);
      if (size === 0) {
        await readTrailers(connection);
        return null;
      }
      remaining = size;
    }
    if (connection.start === connection.end && !(await connection.fill())) {
      throw new Error("the server closed the connection mid-answer");
    }
    const piece = connection.take(remaining).slice();
    remaining -= piece.length;
    if (remaining === 0) await expectCrlf(connection);
    return piece;
  };
}

/** The next bytes of a body delimited by the connection's end, or null at the end. */
async function readUntilClosed(connection: Connection): Promise<Uint8Array | null> {
  if (connection.start === connection.end && !(await connection.fill())) return null;
  return connection.take(Infinity).slice();
}

/** Reads one line (without its "\r\n") of a chunked body's framing. */
async function readLine(connection: Connection): Promise<string> {
  for (;;) {
    const { buffer, start, end } = connection;
    const at = buffer.subarray(start, end).indexOf(10);
    if (at >= 0) {
      const line = decoder.decode(buffer.subarray(start, start + at));
      connection.start = start + at + 1;
      return line.endsWith("\r") ? line.slice(0, -1) : line;
    }
    if (end - start > MAX_HEAD_BYTES) throw new Error("a chunk line is larger than 64 KiB");
    if (!(await connection.fill())) throw new Error("the server closed the connection mid-answer");
  }
}

async function readChunkSize(connection: Connection): Promise<number> {
  const line = await readLine(connection);
  const size = parseInt(line, 16);
  if (!Number.isSafeInteger(size) || size < 0) throw new Error(`invalid chunk size: ${line}`);
  return size;
}

async function expectCrlf(connection: Connection): Promise<void> {
  if ((await readLine(connection)) !== "") throw new Error("invalid chunk: missing CRLF");
}

async function readTrailers(connection: Connection): Promise<void> {
  while ((await readLine(connection)) !== "");
}

/**
 * Case-insensitive read access to an answer's header lines, looked up in the
 * text when asked (cheaper than splitting every line when a proxy reads two
 * or three). Repeated headers read as one value joined with ", ".
 */
class AnswerHeaders {
  /** The header lines, each after a "\r\n" (Latin-1, so lower-casing keeps every index). */
  readonly #text: string;
  #lower?: string;

  constructor(text: string) {
    this.#text = text;
  }

  get(name: string): string | null {
    const lower = this.#lower ??= this.#text.toLowerCase();
    const key = `\r\n${name.toLowerCase()}:`;
    let value: string | null = null;
    for (let at = lower.indexOf(key); at >= 0; at = lower.indexOf(key, at + key.length)) {
      const start = at + key.length;
      const end = lower.indexOf("\r\n", start);
      const one = this.#text.slice(start, end < 0 ? undefined : end).trim();
      value = value === null ? one : `${value}, ${one}`;
    }
    return value;
  }

  has(name: string): boolean {
    return (this.#lower ??= this.#text.toLowerCase()).includes(`\r\n${name.toLowerCase()}:`);
  }
}

/** An answer whose whole body has been read. */
class FixedAnswer implements HttpAnswer {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: AnswerHeaders;
  readonly #bytes: Uint8Array;

  constructor(head: Head, bytes: Uint8Array) {
    this.status = head.status;
    this.ok = head.status >= 200 && head.status < 300;
    this.headers = head.headers;
    this.#bytes = bytes;
  }

  get body(): ReadableStream<Uint8Array> {
    return ReadableStream.from([this.#bytes]);
  }

  text(): Promise<string> {
    return Promise.resolve(decoder.decode(this.#bytes));
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}

/** An answer whose body arrives as a stream. */
class StreamedAnswer implements HttpAnswer {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: AnswerHeaders;
  readonly body: ReadableStream<Uint8Array>;

  constructor(head: Head, body: ReadableStream<Uint8Array>) {
    this.status = head.status;
    this.ok = head.status >= 200 && head.status < 300;
    this.headers = head.headers;
    this.body = body;
  }

  text(): Promise<string> {
    return new Response(this.body).text();
  }

  async json(): Promise<unknown> {
    return JSON.parse(await this.text());
  }
}
