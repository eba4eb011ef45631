import assert from "node:assert/strict";
import { createPaint, formatAgo, formatDuration, formatTable, stripAnsi } from "./output.ts";

Deno.test("formatTable aligns columns and trims trailing spaces", () => {
  assert.equal(
    formatTable(["NAME", "STATUS", "X"], [["hello", "healthy", ""], ["a", "b", "c"]]),
    "NAME   STATUS   X\nhello  healthy\na      b        c",
  );
});

Deno.test("formatTable ignores colour codes when measuring", () => {
  const paint = createPaint(true);
  const table = formatTable(["A", "B"], [[paint("red", "xy"), "1"], ["xyz", "2"]]);
  assert.equal(stripAnsi(table), "A    B\nxy   1\nxyz  2");
  assert.ok(table.includes("\x1b[31mxy\x1b[39m"));
});

Deno.test("createPaint(false) leaves text alone", () => {
  assert.equal(createPaint(false)("green", "ok"), "ok");
});

Deno.test("formatDuration picks the largest sensible units", () => {
  assert.equal(formatDuration(-5), "0s");
  assert.equal(formatDuration(59_999), "59s");
  assert.equal(formatDuration(4 * 60_000 + 5_000), "4m");
  assert.equal(formatDuration(3 * 3_600_000), "3h");
  assert.equal(formatDuration(3 * 3_600_000 + 12 * 60_000), "3h12m");
  assert.equal(formatDuration(2 * 86_400_000 + 5 * 3_600_000), "2d5h");
});

Deno.test("formatAgo handles missing timestamps", () => {
  const now = Date.parse("2025-01-01T00:01:00Z");
  assert.equal(formatAgo("2025-01-01T00:00:30Z", now), "30s ago");
  assert.equal(formatAgo(undefined, now), "-");
  assert.equal(formatAgo("not a date", now), "-");
});
