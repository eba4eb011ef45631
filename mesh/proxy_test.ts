import assert from "node:assert/strict";
import { z } from "zod";
import { mesh, startAgent, type ToolContext } from "./mod.ts";
import type { MeshToolKwargs } from "./protocol.ts";
import { HttpClient } from "./http_client.ts";
import { freeLoopbackUrl } from "./tests/helpers.ts";
import { RemoteTool, type ToolStreamEvent } from "./proxy.ts";

/** A raw loopback HTTP provider recording the headers of every request. */
async function withServer(
  handler: (request: Request) => Response | Promise<Response>,
  fn: (url: string, requests: Headers[]) => Promise<void>,
): Promise<void> {
  const requests: Headers[] = [];
  const server = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen: () => {} }, (request) => {
    requests.push(new Headers(request.headers));
    return handler(request);
  });
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`, requests);
  } finally {
    await server.shutdown();
  }
}

/**
 * Registers `fn` as two tests: proxies over `fetch`, and over a pooled
 * {@linkcode HttpClient} closed when the test ends.
 */
function transportTest(name: string, fn: (http: HttpClient | undefined) => Promise<void>): void {
  Deno.test(`${name} (fetch)`, () => fn(undefined));
  Deno.test(`${name} (pooled)`, async () => {
    const http = new HttpClient();
    try {
      await fn(http);
    } finally {
      http.close();
    }
  });
}

function remote(
  http: HttpClient | undefined,
  endpoint: string,
  kwargs?: MeshToolKwargs,
  token?: string,
): RemoteTool {
  return new RemoteTool({
    agent_id: "provider-00000000",
    function_name: "work",
    endpoint,
    capability: "work",
    status: "available",
    kwargs,
  }, { authToken: token, http });
}

function toolAnswer(text: string): Response {
  return Response.json({ jsonrpc: "2.0", id: 1, result: { content: [{ type: "text", text }] } });
}

transportTest("retry_count retries 5xx answers, then reports the endpoint", async (http) => {
  await withServer(async (request) => {
    await request.body?.cancel();
    return new Response("overloaded", { status: 503 });
  }, async (url, requests) => {
    await assert.rejects(
      remote(http, url, { retry_count: 2 }).call(),
      new RegExp(`work at ${url} answered HTTP 503 after 3 attempts: overloaded`),
    );
    assert.equal(requests.length, 3);
  });
});

transportTest("4xx answers are not retried", async (http) => {
  await withServer(async (request) => {
    await request.body?.cancel();
    return new Response("no", { status: 400 });
  }, async (url, requests) => {
    await assert.rejects(
      remote(http, url, { retry_count: 3 }).call(),
      /answered HTTP 400 after 1 attempt/,
    );
    assert.equal(requests.length, 1);
  });
});

transportTest("a retry succeeds once the provider recovers", async (http) => {
  let calls = 0;
  await withServer(async (request) => {
    await request.body?.cancel();
    return ++calls < 2 ? new Response("busy", { status: 502 }) : toolAnswer("done");
  }, async (url) => {
    assert.equal(await remote(http, url, { retry_count: 1 }).call(), "done");
    assert.equal(calls, 2);
  });
});

transportTest("timeout aborts a slow provider with a clear error", async (http) => {
  const release = Promise.withResolvers<void>();
  await withServer(async (request) => {
    await request.body?.cancel();
    await release.promise;
    return toolAnswer("late");
  }, async (url) => {
    try {
      await assert.rejects(
        remote(http, url, { timeout: 0.1 }).call(),
        /work at .* timed out after 100 ms/,
      );
      // A per-call timeout replaces the advertised one.
      await assert.rejects(
        remote(http, url, { timeout: 60 }).call({}, { timeout: 50 }),
        /after 50 ms/,
      );
    } finally {
      release.resolve();
    }
  });
});

transportTest("concurrent calls each time out at their own deadline", async (http) => {
  const release = Promise.withResolvers<void>();
  await withServer(async (request) => {
    const { params } = await request.json();
    if (params.arguments.slow) await release.promise;
    return toolAnswer(params.arguments.slow ? "late" : "fast");
  }, async (url) => {
    const proxy = remote(http, url);
    try {
      // The long call arms the shared timer first; the short one must still expire on time.
      const long = proxy.call({ slow: true }, { timeout: 60_000 });
      await assert.rejects(proxy.call({ slow: true }, { timeout: 50 }), /after 50 ms/);
      assert.equal(await proxy.call({ slow: false }, { timeout: 50 }), "fast");
      release.resolve();
      assert.equal(await long, "late");
    } finally {
      release.resolve();
    }
  });
});

transportTest("a dead provider fails fast naming its endpoint", async (http) => {
  const url = freeLoopbackUrl();
  await assert.rejects(
    remote(http, url).call(),
    (error: Error) => {
      assert.ok(error.message.includes(`work at ${url} is unreachable after 1 attempt`));
      // The connection error is told once, not once more from its cause.
      assert.equal(error.message.match(/refused/gi)?.length, 1, error.message);
      return true;
    },
  );
});

transportTest("custom_headers and auth_required shape the request", async (http) => {
  await withServer(async (request) => {
    await request.body?.cancel();
    return toolAnswer("ok");
  }, async (url, requests) => {
    const kwargs = { custom_headers: { "X-Tenant": "blue" }, auth_required: true };
    await remote(http, url, kwargs, "tok3n").call({ a: 1 });
    await remote(http, url, { custom_headers: { "X-Tenant": "red" } }, "tok3n").call();
    assert.equal(requests[0].get("x-tenant"), "blue");
    assert.equal(requests[0].get("authorization"), "Bearer tok3n");
    assert.equal(requests[1].get("x-tenant"), "red");
    // No auth_required: the token is not leaked to the provider.
    assert.equal(requests[1].get("authorization"), null);
  });
});

transportTest(
  "isError results make call() throw with the tool's message; callRaw returns them",
  async (http) => {
    await withServer(async (request) => {
      await request.body?.cancel();
      return Response.json({
        jsonrpc: "2.0",
        id: 1,
        result: { content: [{ type: "text", text: "bad city" }], isError: true },
      });
    }, async (url) => {
      await assert.rejects(remote(http, url).call(), /^Error: bad city$/);
      assert.equal((await remote(http, url).callRaw()).isError, true);
    });
  },
);

@mesh.agent({ name: "streamer", autoRun: false })
class StreamingAgent {
  @mesh.tool({ capability: "count", streaming: true, input: { to: z.number().int() } })
  async count({ to }: { to: number }, _deps: unknown, context: ToolContext): Promise<object> {
    const token = context._meta?.progressToken;
    for (let i = 1; i <= to; i++) {
      if (token !== undefined) {
        await context.sendNotification({
          method: "notifications/progress",
          params: { progressToken: token, progress: i, total: to },
        });
      }
    }
    return { counted: to };
  }
}

transportTest(
  "stream() yields progress over SSE, then the result; call() returns structured content",
  async (http) => {
    const agent = await startAgent(StreamingAgent, { registryUrl: freeLoopbackUrl() });
    try {
      const proxy = new RemoteTool({
        agent_id: agent.agentId,
        function_name: "count",
        endpoint: agent.url,
        capability: "count",
        status: "available",
      }, { http });
      const events: ToolStreamEvent[] = [];
      for await (const event of proxy.stream({ to: 3 })) events.push(event);
      assert.deepEqual(
        events.filter((event) => event.type === "progress").map((event) => event.progress.progress),
        [1, 2, 3],
      );
      assert.deepEqual(events.at(-1), {
        type: "result",
        result: {
          content: [{ type: "text", text: '{"counted":3}' }],
          structuredContent: { counted: 3 },
        },
      });
      assert.deepEqual(await proxy.call({ to: 2 }), { counted: 2 });
      await assert.rejects(proxy.call({ to: "x" }), /Input validation error.*at to/);
    } finally {
      await agent.close();
    }
  },
);
