/**
 * The real meshctl CLI (subprocess) against a real registry and real agents:
 * list, status and call, including their error messages.
 */

import assert from "node:assert/strict";
import type { AgentInfo } from "@mesh/sdk/protocol";
import {
  cliEnv,
  meshctl,
  registeredAgents,
  runAgent,
  type Spawned,
  startRegistry,
} from "./helpers.ts";

Deno.test("meshctl list, status and call against a live mesh", async (t) => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-query-" });
  const registry = startRegistry(home);
  const agents: Spawned[] = [];
  const env = cliEnv(home, { MCP_MESH_REGISTRY_URL: registry.url });
  try {
    agents.push(await runAgent("examples/system/main.ts", registry.url));
    agents.push(await runAgent("examples/hello/main.ts", registry.url));
    agents.push(await runAgent("meshctl/tests/agents/counter/main.ts", registry.url));

    await t.step("list prints one row per healthy agent", async () => {
      const { code, stdout, stderr } = await meshctl(["list"], env);
      assert.equal(code, 0, stderr);
      const lines = stdout.trimEnd().split("\n");
      assert.match(lines[0], /^AGENT +STATUS +DEPS +CAPABILITIES +ENDPOINT +AGE +LAST SEEN$/);
      assert.equal(lines.length, 4);
      assert.match(
        stdout,
        /^hello-\S+ +healthy +1\/1 +greeting,time_greeting +http:\/\/127\.0\.0\.1:\d+ /m,
      );
      assert.match(stdout, /^system-\S+ +healthy +0\/0 +time_service,system_info /m);
    });

    await t.step("list --json and --filter give the registry's agent records", async () => {
      const { code, stdout } = await meshctl(["list", "--json", "--filter", "time_service"], env);
      assert.equal(code, 0);
      const listed = JSON.parse(stdout) as AgentInfo[];
      assert.deepEqual(listed.map((agent) => agent.name), ["system"]);
      assert.deepEqual(
        listed[0].capabilities.map((capability) => capability.function_name).sort(),
        ["get_current_time", "get_system_info"],
      );
    });

    await t.step("list --tools shows capabilities, streaming and input schemas", async () => {
      const { stdout } = await meshctl(["list", "--tools"], env);
      assert.match(stdout, /^hello-\S+ +say_hello +greeting +1\.0\.0 +- +\{name: string\}$/m);
      assert.match(
        stdout,
        /^counter-\S+ +count \(streaming\) +counting +1\.0\.0 +- +\{to: integer\}$/m,
      );
    });

    await t.step("status reports registry health and agent counts", async () => {
      const { code, stdout } = await meshctl(["status"], env);
      assert.equal(code, 0);
      assert.match(stdout, new RegExp(`^Registry +${registry.url}$`, "m"));
      assert.match(stdout, /^Status +healthy$/m);
      assert.match(stdout, /^Agents +3 healthy$/m);
    });

    await t.step("status <agent> shows where each dependency resolved", async () => {
      const { code, stdout, stderr } = await meshctl(["status", "hello"], env);
      assert.equal(code, 0, stderr);
      assert.match(
        stdout,
        /greet_with_time +time_service +available +system-\S+:get_current_time +http:\/\/127\.0\.0\.1:\d+/,
      );
      const unknown = await meshctl(["status", "helo"], env);
      assert.equal(unknown.code, 1);
      assert.match(unknown.stderr, /^error: no agent "helo" at .*; did you mean hello\?\n$/);
    });

    await t.step(
      "status and call of an unknown agent unlike any list the agent ids alike",
      async () => {
        const ids = (await registeredAgents(registry.url)).agents.map((agent) => agent.id).sort();
        const available = `; available agents: ${ids.join(", ")}\n`;
        const status = await meshctl(["status", "zzzz"], env);
        assert.equal(status.code, 1);
        assert.equal(status.stderr, `error: no agent "zzzz" at ${registry.url}${available}`);
        const call = await meshctl(["call", "zzzz:say_hello"], env);
        assert.equal(call.code, 1);
        assert.equal(call.stderr, `error: no agent "zzzz" in the registry${available}`);
        const typo = await meshctl(["call", "helo:say_hello"], env);
        assert.equal(typo.stderr, 'error: no agent "helo" in the registry; did you mean hello?\n');
      },
    );

    await t.step(
      "events shows registrations newest first, filtered, as a table or JSON",
      async () => {
        const { code, stdout, stderr } = await meshctl(["events"], env);
        assert.equal(code, 0, stderr);
        assert.match(stdout.split("\n")[0], /^WHEN +EVENT +AGENT +DETAILS$/);
        assert.match(stdout, /^\S+ ago +register +system-[0-9a-f]{8}$/m);
        assert.ok(stdout.indexOf("counter-") < stdout.indexOf("system-"), "newest first");
        const { agents: listed } = await registeredAgents(registry.url);
        const hello = listed.find((agent) => agent.name === "hello")!.id;
        const json = await meshctl(
          ["events", "--agent", hello, "--type", "register", "--json"],
          env,
        );
        const events = JSON.parse(json.stdout) as { event_type: string; agent_id: string }[];
        assert.ok(events.length >= 1);
        assert.ok(events.every((e) => e.event_type === "register" && e.agent_id === hello));
      },
    );

    await t.step("call prints a tool's text", async () => {
      const { code, stdout, stderr } = await meshctl(
        ["call", "say_hello", '{"name": "World"}'],
        env,
      );
      assert.equal(code, 0, stderr);
      assert.equal(stdout, "Hello, World!\n");
    });

    await t.step("call resolves capabilities and wires dependencies", async () => {
      const { code, stdout } = await meshctl(["call", "time_greeting", '{"name": "Ada"}'], env);
      assert.equal(code, 0);
      assert.match(stdout, /^Hello, Ada! The time is \d{4}-\d\d-\d\dT[\d:.]+Z\.\n$/);
    });

    await t.step("call pretty-prints structured content", async () => {
      const { code, stdout } = await meshctl(["call", "count", '{"to": 3}'], env);
      assert.equal(code, 0);
      assert.equal(stdout, '{\n  "counted": 3\n}\n');
    });

    await t.step("call prints progress of a streaming tool as it arrives", async () => {
      const { code, stderr } = await meshctl(["call", "counting", '{"to": 3}'], env);
      assert.equal(code, 0);
      assert.equal(stderr, "[1/3] step 1\n[2/3] step 2\n[3/3] step 3\n");
    });

    await t.step("call reads arguments from a file and from stdin", async () => {
      const file = `${home}/args.json`;
      await Deno.writeTextFile(file, '{\n  "name": "File"\n}\n');
      assert.equal(
        (await meshctl(["call", "say_hello", "--file", file], env)).stdout,
        "Hello, File!\n",
      );
      const piped = await meshctl(["call", "say_hello", "--file", "-"], env, {
        stdin: '{"name": "Pipe"}',
      });
      assert.equal(piped.stdout, "Hello, Pipe!\n");
    });

    await t.step("call --agent-url skips the registry", async () => {
      const { agents: listed } = await (await fetch(`${registry.url}/agents?capability=greeting`))
        .json();
      const direct = cliEnv(home, { MCP_MESH_REGISTRY_URL: "http://127.0.0.1:9" });
      const args = ["call", "say_hello", '{"name": "Direct"}', "--agent-url", listed[0].endpoint];
      const { code, stdout } = await meshctl(args, direct);
      assert.equal(code, 0);
      assert.equal(stdout, "Hello, Direct!\n");
      const typo = await meshctl(["call", "say_helo", "--agent-url", listed[0].endpoint], direct);
      assert.equal(typo.code, 1);
      assert.match(
        typo.stderr,
        /^error: unknown tool "say_helo" at .*\/mcp; did you mean say_hello\?\n$/,
      );
    });

    await t.step("call --agent-url with a capability names the tool providing it", async () => {
      const hello = (await registeredAgents(registry.url)).agents.find((agent) =>
        agent.name === "hello"
      )!;
      const byCapability = await meshctl(
        ["call", "time_greeting", "--agent-url", hello.endpoint],
        env,
      );
      assert.equal(byCapability.code, 1);
      assert.equal(
        byCapability.stderr,
        `error: unknown tool "time_greeting" at ${hello.endpoint}/mcp: "time_greeting" is the ` +
          "capability of tool greet_with_time (--agent-url takes tool names); " +
          "available tools: greet_with_time, say_hello\n",
      );
      const unrelated = await meshctl(["call", "nosuch_tool", "--agent-url", hello.endpoint], env);
      assert.equal(unrelated.code, 1);
      assert.equal(
        unrelated.stderr,
        `error: unknown tool "nosuch_tool" at ${hello.endpoint}/mcp; ` +
          "available tools: greet_with_time, say_hello\n",
      );
    });

    await t.step(
      "call of a tool unlike any other lists the tools instead of guessing",
      async () => {
        const { code, stderr } = await meshctl(["call", "nosuch_tool"], env);
        assert.equal(code, 1);
        assert.doesNotMatch(stderr, /did you mean/);
        assert.match(
          stderr,
          /^error: unknown tool "nosuch_tool"; available tools: (\S+, )*get_current_time, (\S+, )*say_hello(, \S+)*\n$/,
        );
      },
    );

    await t.step("call of a failing tool prints its error and exits 1", async () => {
      const { code, stdout, stderr } = await meshctl(["call", "fail", '{"reason": "boom"}'], env);
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.match(stderr, /^error: fail failed: .*boom/);
      assert.equal(stderr.trimEnd().split("\n").length, 1);
    });

    await t.step(
      "call sends --token (or MCP_MESH_AUTH_TOKEN) to tools that require one",
      async () => {
        const refused = await meshctl(["call", "secret"], env);
        assert.equal(refused.code, 1);
        assert.match(
          refused.stderr,
          /^error: secret at .*\/mcp requires a valid bearer token \(pass --token or set MCP_MESH_AUTH_TOKEN\)\n$/,
        );
        const wrong = await meshctl(["call", "secret", "--token", "nope"], env);
        assert.match(wrong.stderr, /requires a valid bearer token \(the token was refused\)/);
        const ok = await meshctl(["call", "secret", "--token", "s3cret"], env);
        assert.equal(ok.stdout, "the secret\n", ok.stderr);
        const fromEnv = await meshctl(["call", "secret"], {
          ...env,
          MCP_MESH_AUTH_TOKEN: "s3cret",
        });
        assert.equal(fromEnv.stdout, "the secret\n", fromEnv.stderr);
      },
    );

    await t.step("call with invalid arguments reports the tool's validation error", async () => {
      const { code, stderr } = await meshctl(["call", "count", '{"to": "x"}'], env);
      assert.equal(code, 1);
      assert.match(stderr, /^error: count failed: .*[Ii]nput validation/);
    });

    await t.step("call of an unknown tool suggests the closest names", async () => {
      const { code, stderr } = await meshctl(["call", "get_curent_time"], env);
      assert.equal(code, 1);
      assert.equal(
        stderr,
        'error: unknown tool "get_curent_time"; did you mean get_current_time?\n',
      );
    });

    await t.step("call waits as long as the tool's declared timeout; --timeout wins", async () => {
      const napping = (await registeredAgents(registry.url)).agents
        .flatMap((agent) => agent.capabilities)
        .find((capability) => capability.function_name === "nap");
      assert.equal(napping?.kwargs?.timeout, 2, "the registry lists the declared timeout");
      const cut = await meshctl(["call", "nap", '{"seconds": 30}'], env);
      assert.equal(cut.code, 1);
      assert.match(
        cut.stderr,
        /^error: nap at \S+\/mcp gave no answer or progress within 2s \(--timeout waits longer\)\n$/,
      );
      const waited = await meshctl(["call", "nap", '{"seconds": 3}', "--timeout", "60"], env);
      assert.equal(waited.code, 0, waited.stderr);
      assert.equal(waited.stdout, "slept 3s\n");
    });

    await t.step("call with bad JSON names the position, without a stack trace", async () => {
      const { code, stderr } = await meshctl(["call", "say_hello", '{"name": "World",}'], env);
      assert.equal(code, 2);
      assert.equal(
        stderr,
        "error: invalid JSON arguments (command line) at line 1, column 18: " +
          "Expected double-quoted property name\n",
      );
    });
  } finally {
    await Promise.all(agents.map((agent) => agent.close()));
    await registry.close();
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("meshctl explains an unreachable registry in one line", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-down-" });
  try {
    const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const url = `http://127.0.0.1:${closed.addr.port}`;
    closed.close();
    for (const args of [["list"], ["status"], ["call", "say_hello"]]) {
      const { code, stdout, stderr } = await meshctl(
        ["--registry-url", url, ...args],
        cliEnv(home),
      );
      assert.equal(code, 1);
      assert.equal(stdout, "");
      assert.equal(
        stderr,
        `error: cannot reach the registry at ${url} (connection refused); ` +
          "start one with `meshctl start --registry-only` or `deno task registry`\n",
      );
    }
    const debug = await meshctl(["--registry-url", url, "list", "--debug"], cliEnv(home));
    assert.match(debug.stderr, /\n {4}at /, "--debug prints the stack");
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("bad values of an option give one message style and one exit code", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-usage-" });
  try {
    for (const value of ["abc", "0", "501", "2.5"]) {
      const { code, stdout, stderr } = await meshctl(["events", "-n", value], cliEnv(home));
      assert.equal(code, 2, value);
      assert.equal(stdout, "");
      assert.equal(
        stderr,
        `error: option '-n, --limit <count>' argument '${value}' is invalid. ` +
          "expected a whole number from 1 to 500.\n",
      );
    }
    const timeout = await meshctl(["call", "say_hello", "--timeout", "abc"], cliEnv(home));
    assert.equal(timeout.code, 2);
    assert.match(
      timeout.stderr,
      /^error: option '--timeout <seconds>' argument 'abc' is invalid\./,
    );
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});

Deno.test("every usage error exits 2 with one line, before contacting anything", async () => {
  const home = await Deno.makeTempDir({ prefix: "meshctl-usage-" });
  // Nothing listens here: a command that got past its usage checks would exit 1.
  const closed = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const env = cliEnv(home, { MCP_MESH_REGISTRY_URL: `http://127.0.0.1:${closed.addr.port}` });
  closed.close();
  try {
    const cases: [string[], RegExp][] = [
      [["nosuch"], /^error: unknown command 'nosuch'/],
      [["list", "--bogus"], /^error: unknown option '--bogus'/],
      [["logs"], /^error: missing required argument 'agent'/],
      [["stop", "--grace", "-1"], /^error: option '--grace <seconds>' argument '-1' is invalid/],
      [["start", "--registry-port", "70000"], /argument '70000' is invalid/],
      [["call", ":say_hello"], /^error: invalid tool reference ":say_hello"/],
      [["call", "say_hello", "[1]"], /^error: invalid JSON arguments \(command line\): expected/],
      [["call", "say_hello", "{}", "--file", "-"], /^error: give the arguments either inline/],
      [["call", "say_hello", "--file", `${home}/none.json`], /^error: cannot read arguments/],
      [["call", "say_hello", "--agent-url", "nota url"], /^error: invalid agent URL "nota url"/],
      [["--registry-url", "ftp://x", "list"], /^error: invalid registry URL "ftp:\/\/x"/],
      [["start"], /^error: give agent files to start, or --registry-only/],
    ];
    for (const [args, message] of cases) {
      const { code, stdout, stderr } = await meshctl(args, env);
      assert.equal(code, 2, `${args.join(" ")}: ${stderr}`);
      assert.equal(stdout, "");
      assert.match(stderr, message);
      assert.equal(stderr.trimEnd().split("\n").length, 1, stderr);
    }
    const help = await meshctl(["list", "--help"], env);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /^Usage: meshctl list/);
  } finally {
    await Deno.remove(home, { recursive: true });
  }
});
