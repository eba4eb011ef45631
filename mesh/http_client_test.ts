import assert from "node:assert/strict";
import { HttpClient, type HttpClientOptions, NotSentError } from "./http_client.ts";
import { freeLoopbackUrl, waitFor } from "./tests/helpers.ts";

const JSON_HEADERS = { "Content-Type": "application/json" };

/** Runs `fn` with a new client, closed when it ends. */
async function withClient(
  fn: (client: HttpClient) => Promise<void>,
  options?: HttpClientOptions,
): Promise<void> {
  const client = new HttpClient(options);
  try {
    await fn(client);
  } finally {
    client.close();
  }
}

/** A loopback `Deno.serve` server recording the client port of every request. */
async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  fn: (url: string, clientPorts: number[]) => Promise<void>,
): Promise<void> {
  const clientPorts: number[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request, info) => {
      clientPorts.push(info.remoteAddr.port);
      return handler(request);
    },
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}/mcp`, clientPorts);
  } finally {
    await server.shutdown();
  }
}

/** A raw TCP server answering each connection with `serve(conn)`; closed after `fn`. */
async function withRawServer(
  serve: (conn: Deno.Conn) => Promise<void>,
  fn: (url: string, accepted: () => number) => Promise<void>,
): Promise<void> {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const served: Promise<void>[] = [];
  const conns: Deno.Conn[] = [];
  const accepting = (async () => {
    for await (const conn of listener) {
      conns.push(conn);
      served.push(serve(conn).catch(() => {}).finally(() => closeQuietly(conn)));
    }
  })();
  try {
    await fn(`http://127.0.0.1:${listener.addr.port}/mcp`, () => conns.length);
  } finally {
    listener.close();
    await accepting;
    for (const conn of conns) closeQuietly(conn);
    await Promise.all(served);
  }
}

function closeQuietly(conn: Deno.Conn): void {
  try {
    conn.close();
  } catch {
    // Already closed.
  }
}

/** Reads one request (head and content-length body) off a raw connection; null at end. */
async function readRequest(
  conn: Deno.Conn,
  pending: { bytes: Uint8Array },
): Promise<string | null> {
  const decoder = new TextDecoder();
  for (;;) {
    const text = decoder.decode(pending.bytes);
    const end = text.indexOf("\r\n\r\n");
    if (end >= 0) {
      const length = Number(/content-length: (\d+)/i.exec(text)?.[1] ?? 0);
      if (pending.bytes.length >= end + 4 + length) {
        pending.bytes = pending.bytes.subarray(end + 4 + length);
        return text.slice(0, end + 4 + length);
      }
    }
    const chunk = new Uint8Array(4096);
    const count = await conn.read(chunk);
    if (count === null) return null;
    const joined = new Uint8Array(pending.bytes.length + count);
    joined.set(pending.bytes);
    joined.set(chunk.subarray(0, count), pending.bytes.length);
    pending.bytes = joined;
  }
}

async function write(conn: Deno.Conn, text: string): Promise<void> {
  const bytes = new TextEncoder().encode(text);
  let written = 0;
  while (written < bytes.length) written += await conn.write(bytes.subarray(written));
}

const OK_ANSWER = "HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 2\r\n\r\nok";

Deno.test("sequential posts reuse one keep-alive connection", () =>
  withClient(async (client) => {
    await withServer(async (request) => {
      return new Response(`echo ${await request.text()}`, { headers: { "x-seen": "1" } });
    }, async (url, clientPorts) => {
      for (let i = 0; i < 5; i++) {
        const answer = await client.post(
          url,
          JSON_HEADERS,
          `call ${i}`,
          AbortSignal.timeout(5_000),
        );
        assert.equal(answer.status, 200);
        assert.equal(answer.ok, true);
        assert.equal(answer.headers.get("X-Seen"), "1");
        assert.equal(answer.headers.has("content-length"), true);
        assert.equal(await answer.text(), `echo call ${i}`);
      }
      assert.equal(new Set(clientPorts).size, 1);
      assert.equal(client.openConnections, 1);
    });
  }));

Deno.test("concurrent posts open their own connections, then reuse them", () =>
  withClient(async (client) => {
    await withServer(async (request) => {
      await new Promise((resolve) => setTimeout(resolve, 20));
      return new Response(await request.text());
    }, async (url, clientPorts) => {
      for (let round = 0; round < 3; round++) {
        const answers = await Promise.all(
          Array.from(
            { length: 4 },
            (_, i) => client.post(url, {}, `${round}-${i}`, AbortSignal.timeout(5_000)),
          ),
        );
        const texts = await Promise.all(answers.map((answer) => answer.text()));
        assert.deepEqual(texts, [0, 1, 2, 3].map((i) => `${round}-${i}`));
      }
      assert.equal(clientPorts.length, 12);
      assert.equal(new Set(clientPorts).size, 4);
      assert.equal(client.openConnections, 4);
    });
  }));

Deno.test("bodies of any size and encoding arrive intact both ways", () =>
  withClient(async (client) => {
    await withServer(async (request) => {
      const text = await request.text();
      return new Response(text + text, {
        headers: { "content-type": "text/plain; charset=utf-8" },
      });
    }, async (url) => {
      for (const body of ["", "héllo → 世界 🎉", "x".repeat(100_000) + "é".repeat(30_000)]) {
        const answer = await client.post(url, {}, body, AbortSignal.timeout(5_000));
        assert.equal(await answer.text(), body + body);
      }
    });
  }));

Deno.test("a chunked answer is streamed piece by piece, then the connection is reused", () =>
  withClient(async (client) => {
    await withServer((request) => {
      if (new URL(request.url).searchParams.has("plain")) return new Response("after");
      let sent = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(controller) {
          await new Promise((resolve) => setTimeout(resolve, 5));
          if (sent === 3) return controller.close();
          controller.enqueue(new TextEncoder().encode(`data: {"n":${sent++}}\n\n`));
        },
      });
      return new Response(body, { headers: { "content-type": "text/event-stream" } });
    }, async (url, clientPorts) => {
      const answer = await client.post(url, {}, "{}", AbortSignal.timeout(5_000));
      assert.equal(answer.headers.has("content-length"), false);
      assert.equal(answer.headers.get("transfer-encoding"), "chunked");
      const pieces: string[] = [];
      for await (const piece of answer.body!.pipeThrough(new TextDecoderStream())) {
        pieces.push(piece);
      }
      assert.equal(pieces.join(""), 'data: {"n":0}\n\ndata: {"n":1}\n\ndata: {"n":2}\n\n');
      assert.ok(pieces.length >= 2, "the pieces arrived as they were written");
      const after = await client.post(`${url}?plain`, {}, "", AbortSignal.timeout(5_000));
      assert.equal(await after.text(), "after");
      assert.equal(new Set(clientPorts).size, 1);
    });
  }));

Deno.test("error statuses come back as answers with their body", () =>
  withClient(async (client) => {
    await withServer(
      () => new Response("overloaded", { status: 503 }),
      async (url) => {
        const answer = await client.post(url, {}, "{}", AbortSignal.timeout(5_000));
        assert.equal(answer.status, 503);
        assert.equal(answer.ok, false);
        assert.equal(await answer.text(), "overloaded");
      },
    );
  }));

Deno.test("an idle connection the server closes is dropped, and the next post reconnects", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      // One answer, then the server closes the idle connection.
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      await write(conn, OK_ANSWER);
    }, async (url, accepted) => {
      assert.equal(
        await (await client.post(url, {}, "a", AbortSignal.timeout(5_000))).text(),
        "ok",
      );
      await waitFor(
        "the closed idle connection dropped",
        () => client.openConnections === 0 || undefined,
      );
      assert.equal(client.openConnections, 0, "the closed idle connection was noticed");
      assert.equal(
        await (await client.post(url, {}, "b", AbortSignal.timeout(5_000))).text(),
        "ok",
      );
      assert.equal(accepted(), 2);
    });
  }));

Deno.test("a connection idle longer than idleTimeoutMs is closed, not reused", () =>
  withClient(async (client) => {
    await withServer(() => new Response("ok"), async (url, clientPorts) => {
      await (await client.post(url, {}, "a", AbortSignal.timeout(5_000))).text();
      await new Promise((resolve) => setTimeout(resolve, 300));
      await (await client.post(url, {}, "b", AbortSignal.timeout(5_000))).text();
      await (await client.post(url, {}, "c", AbortSignal.timeout(5_000))).text();
      assert.equal(clientPorts.length, 3);
      assert.equal(
        new Set(clientPorts).size,
        2,
        "a new connection after the pause, reused at once",
      );
      assert.equal(client.openConnections, 1);
    });
  }, { idleTimeoutMs: 200 }));

Deno.test("a fresh connection closed before answering is an error, not a retry", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      await readRequest(conn, { bytes: new Uint8Array() });
    }, async (url, accepted) => {
      await assert.rejects(
        client.post(url, {}, "a", AbortSignal.timeout(5_000)),
        /closed the connection before answering/,
      );
      assert.equal(accepted(), 1);
    });
  }));

Deno.test("an answer with connection: close is not reused", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      await write(
        conn,
        "HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 3\r\n\r\nbye",
      );
    }, async (url, accepted) => {
      for (const body of ["a", "b"]) {
        assert.equal(
          await (await client.post(url, {}, body, AbortSignal.timeout(5_000))).text(),
          "bye",
        );
      }
      assert.equal(accepted(), 2);
      assert.equal(client.openConnections, 0);
    });
  }));

Deno.test("an answer delimited by the connection's end streams until it closes", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      await write(conn, "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\n\r\ndata: 1\n\n");
      await write(conn, "data: 2\n\n");
    }, async (url) => {
      const answer = await client.post(url, {}, "a", AbortSignal.timeout(5_000));
      assert.equal(await answer.text(), "data: 1\n\ndata: 2\n\n");
      assert.equal(client.openConnections, 0);
    });
  }));

Deno.test("aborting a call in flight closes its connection and rejects with the reason", () =>
  withClient(async (client) => {
    let serverSawAbort!: () => void;
    const aborted = new Promise<void>((resolve) => serverSawAbort = resolve);
    await withRawServer(async (conn) => {
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      await conn.read(new Uint8Array(1)); // no answer: until the client closes
      serverSawAbort();
    }, async (url) => {
      const controller = new AbortController();
      const call = client.post(url, {}, "{}", controller.signal);
      setTimeout(() => controller.abort(new Error("caller gave up")), 50);
      await assert.rejects(call, /caller gave up/);
      await aborted;
      assert.equal(client.openConnections, 0);
    });
  }));

Deno.test("aborting a streamed answer mid-body errors the stream with the reason", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      await write(conn, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
      await conn.read(new Uint8Array(1)); // until the client closes
    }, async (url) => {
      const controller = new AbortController();
      const answer = await client.post(url, {}, "{}", controller.signal);
      const reader = answer.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "first");
      controller.abort(new Error("stop streaming"));
      await assert.rejects(reader.read(), /stop streaming/);
      assert.equal(client.openConnections, 0);
    });
  }));

Deno.test("a refused connection names the cause; bad headers and https are refused before sending", () =>
  withClient(async (client) => {
    const url = `${freeLoopbackUrl()}/mcp`;
    await assert.rejects(
      client.post(url, {}, "{}", AbortSignal.timeout(5_000)),
      (error) => error instanceof NotSentError && /refused/i.test(error.message),
    );
    await assert.rejects(
      client.post(
        url,
        { "x-a": "1\r\nx-b: 2" },
        "",
        AbortSignal.timeout(5_000),
      ),
      TypeError,
    );
    await assert.rejects(
      client.post("https://127.0.0.1:1/mcp", {}, "", AbortSignal.timeout(5_000)),
      /http only/,
    );
  }));

Deno.test("close() closes idle connections, and later posts are refused", async () => {
  const client = new HttpClient();
  await withServer(() => new Response("ok"), async (url) => {
    await (await client.post(url, {}, "", AbortSignal.timeout(5_000))).text();
    assert.equal(client.openConnections, 1);
    client.close();
    assert.equal(client.openConnections, 0);
    await assert.rejects(client.post(url, {}, "", AbortSignal.timeout(5_000)), /closed/);
  });
});

Deno.test("a chunked answer ignores a content-length beside it; 'Connection: Keep-Alive, Close' closes", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      await write(
        conn,
        "HTTP/1.1 200 OK\r\nContent-Length: 999\r\nTransfer-Encoding: chunked\r\n" +
          "Connection: Keep-Alive, Close\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
      );
    }, async (url, accepted) => {
      for (const body of ["a", "b"]) {
        const answer = await client.post(url, {}, body, AbortSignal.timeout(5_000));
        assert.equal(await answer.text(), "abcde");
      }
      assert.equal(accepted(), 2);
      assert.equal(client.openConnections, 0);
    });
  }));

Deno.test("a request the server drops after it went out is an error, never sent again", () =>
  withClient(async (client) => {
    let executions = 0;
    await withRawServer(async (conn) => {
      const pending = { bytes: new Uint8Array() };
      for (let request; (request = await readRequest(conn, pending)) !== null;) {
        // The handler acts on "poison", then its worker dies without answering.
        if (request.endsWith("poison")) {
          executions++;
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 20));
        await write(conn, OK_ANSWER);
      }
    }, async (url) => {
      const warm = await Promise.all(
        Array.from({ length: 4 }, () => client.post(url, {}, "warm", AbortSignal.timeout(5_000))),
      );
      await Promise.all(warm.map((answer) => answer.text()));
      assert.equal(client.openConnections, 4);
      const failure = await client.post(url, {}, "poison", AbortSignal.timeout(5_000))
        .then(() => undefined, (error) => error);
      assert.match(String(failure), /closed the connection before answering/);
      assert.equal(failure instanceof NotSentError, false, "it may have run");
      assert.equal(executions, 1);
    });
  }));

Deno.test("a 1xx answer followed by a final head crossing the read buffer's end is parsed", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      const pending = { bytes: new Uint8Array() };
      while (await readRequest(conn, pending) !== null) {
        await write(
          conn,
          `HTTP/1.1 103 Early Hints\r\nlink: <${"a".repeat(8_000)}>\r\n\r\n` +
            `HTTP/1.1 200 OK\r\nx-big: ${"b".repeat(10_000)}\r\ncontent-length: 2\r\n\r\nok`,
        );
      }
    }, async (url) => {
      const answer = await client.post(url, {}, "{}", AbortSignal.timeout(5_000));
      assert.equal(answer.status, 200);
      assert.equal(answer.headers.get("x-big")?.length, 10_000);
      assert.equal(await answer.text(), "ok");
    });
  }));

Deno.test("204 and 304 answers have no body, whatever their content-length says", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      const pending = { bytes: new Uint8Array() };
      await readRequest(conn, pending);
      await write(conn, "HTTP/1.1 304 Not Modified\r\ncontent-length: 10\r\n\r\n");
      await readRequest(conn, pending);
      await write(conn, "HTTP/1.1 204 No Content\r\ncontent-length: 10\r\n\r\n");
      while (await readRequest(conn, pending) !== null) await write(conn, OK_ANSWER);
    }, async (url, accepted) => {
      for (const status of [304, 204]) {
        const answer = await client.post(url, {}, "{}", AbortSignal.timeout(5_000));
        assert.equal(answer.status, status);
        assert.equal(await answer.text(), "");
      }
      assert.equal(
        await (await client.post(url, {}, "{}", AbortSignal.timeout(5_000))).text(),
        "ok",
      );
      assert.equal(accepted(), 1);
    });
  }));

Deno.test("framing headers given by the caller do not reach the wire twice", () =>
  withClient(async (client) => {
    await withServer(
      async (request) => new Response(`${request.headers.get("host")} ${await request.text()}`),
      async (url) => {
        const answer = await client.post(
          url,
          { "Content-Length": "0", "Host": "elsewhere.example" },
          "{}",
          AbortSignal.timeout(5_000),
        );
        assert.equal(answer.status, 200);
        assert.equal(await answer.text(), `${new URL(url).host} {}`);
      },
    );
  }));

Deno.test("close() rejects a call in flight with a message naming the cause", async () => {
  const client = new HttpClient();
  await withRawServer(async (conn) => {
    await readRequest(conn, { bytes: new Uint8Array() });
    await conn.read(new Uint8Array(1)); // until the client closes
  }, async (url, accepted) => {
    const call = client.post(url, {}, "{}", AbortSignal.timeout(5_000));
    while (accepted() === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    client.close();
    await assert.rejects(call, /connection closed while the request was in flight/);
  });
});

Deno.test("header values go out as Latin-1, as fetch sends them; control characters are refused", () =>
  withClient(async (client) => {
    await withServer((request) => new Response(request.headers.get("x-name")), async (url) => {
      const answer = await client.post(url, { "x-name": "José" }, "", AbortSignal.timeout(5_000));
      assert.equal(await answer.text(), "José");
      for (const value of ["a\x01b", "a\u2028b", "a\u0100b"]) {
        await assert.rejects(
          client.post(url, { "x-name": value }, "", AbortSignal.timeout(5_000)),
          TypeError,
        );
      }
    });
  }));

Deno.test("a streamed answer cancelled just before its end keeps its connection", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      const pending = { bytes: new Uint8Array() };
      if (await readRequest(conn, pending) === null) return;
      await write(conn, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nfirst\r\n");
      await new Promise((resolve) => setTimeout(resolve, 30));
      await write(conn, "6\r\nsecond\r\n0\r\n\r\n");
      while (await readRequest(conn, pending) !== null) await write(conn, OK_ANSWER);
    }, async (url, accepted) => {
      const answer = await client.post(url, {}, "{}", AbortSignal.timeout(5_000));
      const reader = answer.body!.getReader();
      assert.equal(new TextDecoder().decode((await reader.read()).value), "first");
      await reader.cancel();
      await waitFor(
        "the drained connection back in the pool",
        () => client.idleConnections > 0 || undefined,
      );
      const next = await client.post(url, {}, "again", AbortSignal.timeout(5_000));
      assert.equal(await next.text(), "ok");
      assert.equal(accepted(), 1, "the drained connection was reused");
    });
  }));

Deno.test("a streamed answer cancelled far from its end closes its connection", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      const chunk = `4000\r\n${"x".repeat(0x4000)}\r\n`;
      await write(conn, "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n" + chunk);
      // Far more than the drain limit follows, and no end.
      for (let i = 0; i < 8; i++) await write(conn, chunk);
      await conn.read(new Uint8Array(1)); // until the client closes
    }, async (url) => {
      const answer = await client.post(url, {}, "{}", AbortSignal.timeout(5_000));
      const reader = answer.body!.getReader();
      await reader.read();
      await reader.cancel();
      await waitFor(
        "the undrainable connection closed",
        () => client.openConnections === 0 || undefined,
      );
      assert.equal(client.openConnections, 0);
    });
  }));

Deno.test("answer headers: any case, repeats joined, values read as Latin-1", () =>
  withClient(async (client) => {
    await withRawServer(async (conn) => {
      if (await readRequest(conn, { bytes: new Uint8Array() }) === null) return;
      const head = "HTTP/1.1 200 OK\r\nX-Multi: a\r\nx-multi:  b \r\nX-Latin: caf\xe9\r\n" +
        "content-length: 2\r\n\r\nok";
      // One byte per character: the way a server sends Latin-1 header text.
      await conn.write(Uint8Array.from(head, (char) => char.charCodeAt(0)));
    }, async (url) => {
      const answer = await client.post(url, {}, "{}", AbortSignal.timeout(5_000));
      assert.equal(answer.headers.get("X-MULTI"), "a, b");
      assert.equal(answer.headers.get("x-latin"), "café");
      assert.equal(answer.headers.has("Content-Length"), true);
      assert.equal(answer.headers.has("x-none"), false);
      assert.equal(answer.headers.get("x-none"), null);
      assert.equal(await answer.text(), "ok");
    });
  }));

Deno.test("connections idle past the timeout on hosts no longer called are closed", () =>
  withClient(async (client) => {
    await withServer(() => new Response("a"), async (first) => {
      await withServer(() => new Response("b"), async (second) => {
        await (await client.post(first, {}, "", AbortSignal.timeout(5_000))).text();
        await new Promise((resolve) => setTimeout(resolve, 80));
        await (await client.post(second, {}, "", AbortSignal.timeout(5_000))).text();
        assert.equal(client.idleConnections, 1, "only the second host's connection is left");
      });
    });
  }, { idleTimeoutMs: 50 }));
