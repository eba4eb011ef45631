import assert from "node:assert/strict";
import { InvalidArgumentError } from "commander";
import { countParser, parseCount, parsePort, parseSeconds } from "./arg_parsers.ts";

Deno.test("parseSeconds accepts positive fractions only", () => {
  assert.equal(parseSeconds("1.5"), 1.5);
  for (const bad of ["0", "-1", "x", "", "Infinity"]) {
    assert.throws(() => parseSeconds(bad), InvalidArgumentError);
  }
});

Deno.test("parsePort accepts 0..65535", () => {
  assert.equal(parsePort("0"), 0);
  assert.equal(parsePort("8000"), 8000);
  for (const bad of ["65536", "-1", "80.5", "http"]) {
    assert.throws(() => parsePort(bad), InvalidArgumentError);
  }
});

Deno.test("parseCount accepts whole numbers from 0", () => {
  assert.equal(parseCount("0"), 0);
  assert.throws(() => parseCount("-3"), InvalidArgumentError);
  assert.throws(() => parseCount("2.5"), InvalidArgumentError);
});

Deno.test("countParser accepts whole numbers within its range only", () => {
  const parseLimit = countParser(1, 500);
  assert.equal(parseLimit("1"), 1);
  assert.equal(parseLimit("500"), 500);
  for (const bad of ["0", "501", "abc", "", "2.5"]) {
    assert.throws(() => parseLimit(bad), {
      name: "InvalidArgumentError",
      message: "expected a whole number from 1 to 500.",
    });
  }
});
