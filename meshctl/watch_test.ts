import assert from "node:assert/strict";
import { join } from "node:path";
import { isIgnoredChange } from "./watch.ts";

Deno.test("isIgnoredChange skips lock, temporary, editor and hidden files", () => {
  const dir = "/project/hello";
  const ignored = [
    "deno.lock",
    "deno.aa408b96.tmp",
    "main.ts~",
    ".main.ts.swp",
    ".#main.ts",
    "4913",
    ".git",
    ".env",
    ".git/index",
    ".vscode/settings.json",
    "sub/.cache/x.ts",
  ];
  for (const name of ignored) assert.ok(isIgnoredChange(dir, join(dir, name)), name);
  const relevant = ["main.ts", "deno.json", "lib/tools.ts", "config.yaml", "49130.ts"];
  for (const name of relevant) assert.ok(!isIgnoredChange(dir, join(dir, name)), name);
});
