/**
 * Parsers for numeric command-line option values; invalid values become
 * commander's usual "option … argument … is invalid" error.
 *
 * @module
 */

import { InvalidArgumentError } from "commander";

/** A positive, finite number of seconds (fractions allowed). */
export function parseSeconds(value: string): number {
  const seconds = Number(value);
  if (value.trim() === "" || !Number.isFinite(seconds) || seconds <= 0) {
    throw new InvalidArgumentError("expected a positive number of seconds.");
  }
  return seconds;
}

/** A TCP port, 0 (any free port) to 65535. */
export function parsePort(value: string): number {
  const port = Number(value);
  if (value.trim() === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError("expected a port number between 0 and 65535.");
  }
  return port;
}

/**
 * A parser of whole counts from `min` to `max` (inclusive), for options
 * such as `-n, --limit <count>`.
 */
export function countParser(min: number, max: number = Infinity): (value: string) => number {
  const range = max === Infinity ? `, ${min} or more` : ` from ${min} to ${max}`;
  return (value: string): number => {
    const count = Number(value);
    if (value.trim() === "" || !Number.isInteger(count) || count < min || count > max) {
      throw new InvalidArgumentError(`expected a whole number${range}.`);
    }
    return count;
  };
}

/** A non-negative whole count. */
export const parseCount: (value: string) => number = countParser(0);
