/**
 * `meshctl call [agent:]tool [json]`: call a tool through the mesh.
 *
 * @module
 */

import type { Command } from "commander";
import { parseSeconds } from "../arg_parsers.ts";
import { commandContext } from "../context.ts";
import { CliError, UsageError } from "../errors.ts";
import { parseJsonArgs } from "../json_args.ts";
import type { AgentInfo } from "@mesh/sdk/protocol";
import { sameServer } from "../agent_process.ts";
import { callTool, renderProgress, renderResult, UnknownToolError } from "../mcp_call.ts";
import { RegistryClient } from "../registry_client.ts";
import { toJson } from "../output.ts";
import { chooseProvider, mcpUrl, parseToolRef } from "../tool_target.ts";

/** Seconds a call waits without progress when neither --timeout nor the tool says. */
const DEFAULT_TIMEOUT_SECONDS = 60;

interface CallOptions {
  file?: string;
  agentUrl?: string;
  timeout?: number;
  json?: boolean;
  token?: string;
}

/** Adds `call` to the program. */
export function registerCall(program: Command): void {
  program
    .command("call")
    .argument("<tool>", "tool name or capability, optionally prefixed by an agent: agent-id:tool")
    .argument("[arguments]", "tool arguments as a JSON object", "")
    .summary("call a tool on the agent that provides it")
    .description(
      "Find the agent providing <tool> through the registry (by tool name, or by\n" +
        "capability) and call it over MCP. Prints the tool's text, or pretty JSON when\n" +
        "the tool returns structured content. Progress of streaming tools is printed\n" +
        "to stderr as it arrives. A tool reporting an error exits with status 1.\n" +
        "Without --timeout, a call waits as long as the tool's declared timeout\n" +
        `(kwargs.timeout in the registry), else ${DEFAULT_TIMEOUT_SECONDS}s, without progress.`,
    )
    .option("--file <path>", "read the JSON arguments from a file (- for stdin)")
    .option("--agent-url <url>", "call this agent directly, without asking the registry")
    .option(
      "--timeout <seconds>",
      "give up after this long without progress (default: the tool's declared " +
        `timeout, else ${DEFAULT_TIMEOUT_SECONDS})`,
      parseSeconds,
    )
    .option("--json", "print the whole MCP CallToolResult as JSON")
    .option(
      "--token <token>",
      "bearer token for tools that require one (env MCP_MESH_AUTH_TOKEN)",
      Deno.env.get("MCP_MESH_AUTH_TOKEN"),
    )
    .addHelpText(
      "after",
      `
Examples:
  $ meshctl call get_current_time
  $ meshctl call say_hello '{"name": "World"}'
  $ meshctl call greeting '{"name": "World"}'          by capability
  $ meshctl call hello-1a2b3c4d:say_hello '{"name": "Ada"}'
  $ meshctl call say_hello --file args.json
  $ meshctl call say_hello '{"name": "Ada"}' --agent-url http://127.0.0.1:9001
  $ meshctl call increment '{"session_id": "s1"}'     a stateful tool's session
  $ MCP_MESH_AUTH_TOKEN=s3cret meshctl call secret_tool`,
    )
    .action(async (ref: string, inline: string, options: CallOptions, command: Command) => {
      const { registry, paintError } = await commandContext(command);
      const args = await readArguments(inline, options.file);
      const target = parseToolRef(ref);
      let url: URL;
      let tool = target.tool;
      let declaredTimeout: number | undefined;
      if (options.agentUrl) {
        url = mcpUrl(options.agentUrl);
      } else {
        const { agents } = await registry.listAgents();
        const provider = chooseProvider(agents, target);
        url = mcpUrl(provider.agent.endpoint);
        tool = provider.capability.function_name;
        declaredTimeout = provider.capability.kwargs?.timeout;
      }
      const timeout = options.timeout ?? positive(declaredTimeout) ?? DEFAULT_TIMEOUT_SECONDS;
      const result = await callTool(url, tool, args, {
        timeoutMs: timeout * 1000,
        verifyTool: options.agentUrl !== undefined,
        token: options.token,
        onProgress: (progress) => console.error(paintError("cyan", renderProgress(progress))),
      }).catch(async (error) => {
        if (error instanceof UnknownToolError) throw await explainCapability(error, registry);
        throw error;
      });
      if (options.json) {
        console.log(toJson(result));
        if (result.isError) Deno.exitCode = 1;
      } else if (result.isError) {
        throw new CliError(`${tool} failed: ${renderResult(result)}`);
      } else {
        console.log(renderResult(result));
      }
    });
}

/**
 * When the name given with `--agent-url` is a capability of that agent (as
 * the registry records it), says which tool provides it; the error as is
 * when the registry does not know the agent or cannot be reached.
 */
async function explainCapability(
  error: UnknownToolError,
  registry: RegistryClient,
): Promise<UnknownToolError> {
  let agents: AgentInfo[];
  try {
    ({ agents } = await new RegistryClient(registry.url, { timeoutMs: 3_000 }).listAgents());
  } catch (cause) {
    if (cause instanceof CliError) return error;
    throw cause;
  }
  const provider = agents
    .filter((agent) => sameServer(agent.endpoint, error.url))
    .flatMap((agent) => agent.capabilities)
    .find((capability) =>
      capability.name === error.tool && error.tools.includes(capability.function_name)
    );
  return provider
    ? new UnknownToolError(error.tool, error.url, error.tools, provider.function_name)
    : error;
}

/** `seconds` when it is a positive finite number (a declared timeout is the agent's word). */
function positive(seconds: number | undefined): number | undefined {
  return typeof seconds === "number" && Number.isFinite(seconds) && seconds > 0
    ? seconds
    : undefined;
}

async function readArguments(
  inline: string,
  file: string | undefined,
): Promise<Record<string, unknown>> {
  if (inline && file) {
    throw new UsageError("give the arguments either inline or with --file, not both");
  }
  if (file) {
    let text: string;
    try {
      text = file === "-"
        ? await new Response(Deno.stdin.readable).text()
        : await Deno.readTextFile(file);
    } catch (error) {
      const reason = error instanceof Deno.errors.NotFound ? "no such file" : String(error);
      throw new UsageError(`cannot read arguments from ${file}: ${reason}`);
    }
    return parseJsonArgs(text, file === "-" ? "stdin" : file);
  }
  return inline.trim() ? parseJsonArgs(inline, "command line") : {};
}
