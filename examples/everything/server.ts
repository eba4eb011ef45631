/**
 * The everything agent's MCP server: one {@link McpServer} that exercises every
 * feature the MCP SDK offers a tool author, with the tool, resource and prompt
 * names the official MCP conformance suite expects.
 *
 * One server serves one session (an SDK server connects to a single transport);
 * {@link createEverythingServer} is the factory the HTTP layer calls per session.
 *
 * @module
 */

// The SDK's `./*` export maps types to `*.d.ts`, so a `.js` subpath loses its types: name them.
// @ts-types="@modelcontextprotocol/sdk/server/mcp"
import { McpServer, ResourceTemplate } from "@modelcontextprotocol/sdk/server/mcp.js";
// @ts-types="@modelcontextprotocol/sdk/server/completable"
import { completable } from "@modelcontextprotocol/sdk/server/completable.js";
import type { RequestHandlerExtra } from "@modelcontextprotocol/sdk/shared/protocol";
// @ts-types="@modelcontextprotocol/sdk/types"
import {
  type CallToolResult,
  type ElicitRequestFormParams,
  type LoggingLevel,
  LoggingLevelSchema,
  type ServerNotification,
  type ServerRequest,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
} from "@modelcontextprotocol/sdk/types.js";
import { z } from "zod";
import { WATCHED_RESOURCE_URI, type WatchedResource } from "./watched_resource.ts";

/** Name the server reports in `initialize`. */
export const SERVER_NAME = "everything";

/** Version the server reports in `initialize`. */
export const SERVER_VERSION = "0.1.0";

/** A 1x1 red PNG, base64. */
export const RED_PIXEL_PNG =
  "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg==";

/** A valid WAV file (8 kHz, mono, 16 bit) holding one silent sample, base64. */
export const SILENT_WAV = "UklGRiYAAABXQVZFZm10IBAAAAABAAEAQB8AAIA+AAACABAAZGF0YQIAAAAAAA==";

/** Words offered when completing the first argument of `test_prompt_with_arguments`. */
export const ARG1_SUGGESTIONS: readonly string[] = [
  "paris",
  "park",
  "party",
  "test",
  "testing",
];

type ToolExtra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const LOG_SEVERITY: readonly LoggingLevel[] = LoggingLevelSchema.options;

const delay = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const text = (value: string): CallToolResult => ({ content: [{ type: "text", text: value }] });

/**
 * Input of `json_schema_2020_12_tool`. The SDK publishes zod schemas as draft-07;
 * zod's documented `toJSONSchema` override makes this one publish itself as
 * JSON Schema 2020-12 (`$schema`, `$defs`, `additionalProperties: false`), while
 * calls are still validated by zod.
 */
const jsonSchema2020Input = (() => {
  const address = z.object({ street: z.string().optional(), city: z.string().optional() })
    .meta({ id: "address" });
  const schema = z.strictObject({ name: z.string().optional(), address: address.optional() });
  const published = z.toJSONSchema(schema, { target: "draft-2020-12", io: "input" });
  // A fresh copy each time: the generator edits the object it is handed.
  schema._zod.toJSONSchema = () => structuredClone(published);
  return schema;
})();

/** The form of `test_elicitation_sep1034_defaults`: a default for every primitive type. */
const DEFAULTS_FORM: ElicitRequestFormParams["requestedSchema"] = {
  type: "object",
  properties: {
    name: { type: "string", description: "User name", default: "John Doe" },
    age: { type: "integer", description: "User age", default: 30 },
    score: { type: "number", description: "User score", default: 95.5 },
    status: {
      type: "string",
      description: "User status",
      enum: ["active", "inactive", "pending"],
      default: "active",
    },
    verified: { type: "boolean", description: "Verification status", default: true },
  },
};

/** The form of `test_elicitation_sep1330_enums`: every enum variant of SEP-1330. */
const ENUMS_FORM: ElicitRequestFormParams["requestedSchema"] = {
  type: "object",
  properties: {
    untitledSingle: {
      type: "string",
      description: "Pick one",
      enum: ["option1", "option2", "option3"],
    },
    titledSingle: {
      type: "string",
      description: "Pick one (titled)",
      oneOf: [
        { const: "value1", title: "First Option" },
        { const: "value2", title: "Second Option" },
        { const: "value3", title: "Third Option" },
      ],
    },
    legacyEnum: {
      type: "string",
      description: "Pick one (legacy titles)",
      enum: ["opt1", "opt2", "opt3"],
      enumNames: ["Option One", "Option Two", "Option Three"],
    },
    untitledMulti: {
      type: "array",
      description: "Pick some",
      items: { type: "string", enum: ["option1", "option2", "option3"] },
    },
    titledMulti: {
      type: "array",
      description: "Pick some (titled)",
      items: {
        anyOf: [
          { const: "value1", title: "First Choice" },
          { const: "value2", title: "Second Choice" },
          { const: "value3", title: "Third Choice" },
        ],
      },
    },
  },
};

/**
 * Builds the MCP server for one session.
 *
 * @param watched the watched resource shared by all sessions; this session
 *   notifies its client when it changes and the client has subscribed to it.
 */
export function createEverythingServer(watched: WatchedResource): McpServer {
  const mcp = new McpServer(
    { name: SERVER_NAME, version: SERVER_VERSION },
    {
      capabilities: { logging: {}, resources: { subscribe: true, listChanged: true } },
      instructions: "Exercises every MCP feature: content types, structured output, errors, " +
        "logging, progress, sampling, elicitation, resources, prompts and completion.",
    },
  );
  registerContentTools(mcp);
  registerClientRequestTools(mcp);
  registerNotifyingTools(mcp, watched);
  registerResources(mcp, watched);
  registerPrompts(mcp);
  return mcp;
}

/** Tools that return each kind of content, structured output or an error. */
function registerContentTools(mcp: McpServer): void {
  mcp.registerTool("test_simple_text", {
    description: "Returns one text content item",
  }, () => text("This is a simple text response for testing."));

  mcp.registerTool("test_image_content", {
    description: "Returns one image content item (a 1x1 red PNG)",
  }, () => ({ content: [{ type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" }] }));

  mcp.registerTool("test_audio_content", {
    description: "Returns one audio content item (a tiny WAV)",
  }, () => ({ content: [{ type: "audio", data: SILENT_WAV, mimeType: "audio/wav" }] }));

  mcp.registerTool("test_embedded_resource", {
    description: "Returns an embedded text resource",
  }, () => ({
    content: [{
      type: "resource",
      resource: {
        uri: "test://embedded-resource",
        mimeType: "text/plain",
        text: "This is an embedded resource content.",
      },
    }],
  }));

  mcp.registerTool("test_multiple_content_types", {
    description: "Returns text, image and an embedded resource in one result",
  }, () => ({
    content: [
      { type: "text", text: "Multiple content types test:" },
      { type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" },
      {
        type: "resource",
        resource: {
          uri: "test://mixed-content-resource",
          mimeType: "application/json",
          text: JSON.stringify({ test: "data", value: 123 }),
        },
      },
    ],
  }));

  mcp.registerTool("test_error_handling", {
    description: "Always fails: the error comes back as a result with isError: true",
  }, () => {
    throw new Error("This tool intentionally returns an error for testing");
  });

  mcp.registerTool("add_numbers", {
    title: "Add numbers",
    description: "Adds two numbers and returns the sum as structured content",
    inputSchema: { a: z.number().describe("First addend"), b: z.number().describe("Second") },
    outputSchema: { sum: z.number().describe("a + b") },
    annotations: { readOnlyHint: true, idempotentHint: true },
  }, ({ a, b }) => {
    const structuredContent = { sum: a + b };
    return {
      content: [{ type: "text", text: JSON.stringify(structuredContent) }],
      structuredContent,
    };
  });

  mcp.registerTool("json_schema_2020_12_tool", {
    description: "Publishes its input schema as JSON Schema 2020-12 ($schema, $defs)",
    inputSchema: jsonSchema2020Input,
  }, (args) => text(`JSON Schema 2020-12 tool called with: ${JSON.stringify(args)}`));
}

/** Tools that send requests back to the client: sampling and elicitation. */
function registerClientRequestTools(mcp: McpServer): void {
  mcp.registerTool("test_sampling", {
    description: "Asks the client's LLM to answer a prompt (sampling/createMessage)",
    inputSchema: { prompt: z.string().describe("The prompt to send to the LLM") },
  }, async ({ prompt }, extra) => {
    if (!mcp.server.getClientCapabilities()?.sampling) {
      throw new Error("The client does not support sampling");
    }
    const answer = await mcp.server.createMessage({
      messages: [{ role: "user", content: { type: "text", text: prompt } }],
      maxTokens: 100,
    }, { relatedRequestId: extra.requestId });
    const reply = answer.content.type === "text" ? answer.content.text : `[${answer.content.type}]`;
    return text(`LLM response: ${reply}`);
  });

  mcp.registerTool("test_elicitation", {
    description: "Asks the user for a username and email (elicitation/create)",
    inputSchema: { message: z.string().describe("The message to show the user") },
  }, ({ message }, extra) =>
    elicit(mcp, extra, "User response", {
      message,
      requestedSchema: {
        type: "object",
        properties: {
          username: { type: "string", description: "User's response" },
          email: { type: "string", description: "User's email address" },
        },
        required: ["username", "email"],
      },
    }));

  mcp.registerTool("test_elicitation_sep1034_defaults", {
    description: "Asks the user to review a form whose fields all have defaults (SEP-1034)",
  }, (extra) =>
    elicit(mcp, extra, "Elicitation completed", {
      message: "Please review and update the form fields with defaults",
      requestedSchema: DEFAULTS_FORM,
    }));

  mcp.registerTool("test_elicitation_sep1330_enums", {
    description: "Asks the user to pick from every kind of enum field (SEP-1330)",
  }, (extra) =>
    elicit(mcp, extra, "Elicitation completed", {
      message: "Please select options from the enum fields",
      requestedSchema: ENUMS_FORM,
    }));
}

/** Sends a form elicitation on the call's own stream and reports the user's answer. */
async function elicit(
  mcp: McpServer,
  extra: ToolExtra,
  label: string,
  params: Omit<ElicitRequestFormParams, "mode">,
): Promise<CallToolResult> {
  const answer = await mcp.server.elicitInput(params, { relatedRequestId: extra.requestId });
  return text(`${label}: action=${answer.action}, content=${JSON.stringify(answer.content ?? {})}`);
}

/** Tools that notify while they run: logging, progress, SSE polling, resource updates. */
function registerNotifyingTools(mcp: McpServer, watched: WatchedResource): void {
  const log = sessionLogger(mcp);

  mcp.registerTool("test_tool_with_logging", {
    description: "Sends three info log messages while it runs",
  }, async (extra) => {
    await log(extra, "info", "Tool execution started");
    await delay(50);
    await log(extra, "info", "Tool processing data");
    await delay(50);
    await log(extra, "info", "Tool execution completed");
    return text("Tool with logging executed successfully");
  });

  mcp.registerTool("test_tool_with_progress", {
    description: "Reports progress 0, 50 and 100 of 100 when the call has a progress token",
  }, async (extra) => {
    const progressToken = extra._meta?.progressToken;
    for (const progress of [0, 50, 100]) {
      if (progress > 0) await delay(50);
      if (progressToken === undefined) continue;
      await extra.sendNotification({
        method: "notifications/progress",
        params: { progressToken, progress, total: 100, message: `Completed ${progress}%` },
      });
    }
    return text("Tool with progress executed successfully");
  });

  mcp.registerTool("test_reconnection", {
    description: "Closes its SSE stream mid-call; the result arrives when the client " +
      "reconnects with Last-Event-ID (SEP-1699, needs protocol 2025-11-25)",
  }, (extra) => {
    extra.closeSSEStream?.();
    return text(
      extra.closeSSEStream
        ? "Reconnection test completed: the result was replayed after the client reconnected."
        : "Reconnection test completed without closing the stream (client cannot resume).",
    );
  });

  mcp.registerTool("update_watched_resource", {
    description: `Replaces the text of ${WATCHED_RESOURCE_URI}; subscribers are notified`,
    inputSchema: { text: z.string().describe("The new text") },
  }, ({ text: value }) => {
    watched.update(value);
    return text(`${WATCHED_RESOURCE_URI} updated`);
  });
}

/**
 * Logging for one session: the level set with `logging/setLevel` filters what is
 * sent, and each message goes out on the stream of the tool call that logs it.
 */
function sessionLogger(
  mcp: McpServer,
): (extra: ToolExtra, level: LoggingLevel, data: string) => Promise<void> {
  let threshold: LoggingLevel = "debug";
  mcp.server.setRequestHandler(SetLevelRequestSchema, ({ params }) => {
    threshold = params.level;
    return {};
  });
  return async (extra, level, data) => {
    if (LOG_SEVERITY.indexOf(level) < LOG_SEVERITY.indexOf(threshold)) return;
    await extra.sendNotification({
      method: "notifications/message",
      params: { level, logger: SERVER_NAME, data },
    });
  };
}

/** Static resources, a template with completion, and the subscribable watched resource. */
function registerResources(mcp: McpServer, watched: WatchedResource): void {
  mcp.registerResource("static-text", "test://static-text", {
    title: "Static text",
    description: "A text resource that never changes",
    mimeType: "text/plain",
  }, (uri) => ({
    contents: [{
      uri: uri.href,
      mimeType: "text/plain",
      text: "This is the content of the static text resource.",
    }],
  }));

  mcp.registerResource("static-binary", "test://static-binary", {
    title: "Static binary",
    description: "A binary resource (a 1x1 red PNG)",
    mimeType: "image/png",
  }, (uri) => ({ contents: [{ uri: uri.href, mimeType: "image/png", blob: RED_PIXEL_PNG }] }));

  mcp.registerResource(
    "template-data",
    new ResourceTemplate("test://template/{id}/data", {
      list: undefined,
      complete: { id: (value) => ["1", "2", "3", "123"].filter((id) => id.startsWith(value)) },
    }),
    {
      title: "Data by id",
      description: "JSON data for any id, substituted from the URI",
      mimeType: "application/json",
    },
    (uri, { id }) => ({
      contents: [{
        uri: uri.href,
        mimeType: "application/json",
        text: JSON.stringify({ id, templateTest: true, data: `Data for ID: ${id}` }),
      }],
    }),
  );

  mcp.registerResource("watched-resource", WATCHED_RESOURCE_URI, {
    title: "Watched resource",
    description: "Text that changes with update_watched_resource; subscribe to hear about it",
    mimeType: "text/plain",
  }, (uri) => ({ contents: [{ uri: uri.href, mimeType: "text/plain", text: watched.text }] }));

  const subscriptions = new Set<string>();
  mcp.server.setRequestHandler(SubscribeRequestSchema, ({ params }) => {
    subscriptions.add(params.uri);
    return {};
  });
  mcp.server.setRequestHandler(UnsubscribeRequestSchema, ({ params }) => {
    subscriptions.delete(params.uri);
    return {};
  });
  const notify = () => {
    if (!subscriptions.has(WATCHED_RESOURCE_URI)) return;
    mcp.server.sendResourceUpdated({ uri: WATCHED_RESOURCE_URI }).catch(() => {
      // The client went away; its session is being closed.
    });
  };
  watched.addEventListener("change", notify);
  mcp.server.onclose = () => watched.removeEventListener("change", notify);
}

/** Prompts with no arguments, with completable arguments, with a resource and an image. */
function registerPrompts(mcp: McpServer): void {
  mcp.registerPrompt("test_simple_prompt", {
    title: "Simple prompt",
    description: "A prompt without arguments",
  }, () => ({
    messages: [{
      role: "user",
      content: { type: "text", text: "This is a simple prompt for testing." },
    }],
  }));

  mcp.registerPrompt("test_prompt_with_arguments", {
    title: "Prompt with arguments",
    description: "A prompt with two required arguments; arg1 offers completions",
    argsSchema: {
      arg1: completable(
        z.string().describe("First test argument"),
        (value) => ARG1_SUGGESTIONS.filter((word) => word.startsWith(value)),
      ),
      arg2: z.string().describe("Second test argument"),
    },
  }, ({ arg1, arg2 }) => ({
    messages: [{
      role: "user",
      content: { type: "text", text: `Prompt with arguments: arg1='${arg1}', arg2='${arg2}'` },
    }],
  }));

  mcp.registerPrompt("test_prompt_with_embedded_resource", {
    title: "Prompt with an embedded resource",
    description: "A prompt that embeds the resource named by resourceUri",
    argsSchema: { resourceUri: z.string().describe("URI of the resource to embed") },
  }, ({ resourceUri }) => ({
    messages: [
      {
        role: "user",
        content: {
          type: "resource",
          resource: {
            uri: resourceUri,
            mimeType: "text/plain",
            text: "Embedded resource content for testing.",
          },
        },
      },
      {
        role: "user",
        content: { type: "text", text: "Please process the embedded resource above." },
      },
    ],
  }));

  mcp.registerPrompt("test_prompt_with_image", {
    title: "Prompt with an image",
    description: "A prompt that shows an image",
  }, () => ({
    messages: [
      { role: "user", content: { type: "image", data: RED_PIXEL_PNG, mimeType: "image/png" } },
      { role: "user", content: { type: "text", text: "Please analyze the image above." } },
    ],
  }));
}
