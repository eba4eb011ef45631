/**
 * The error types meshctl shows to operators, and its exit codes.
 *
 * A {@linkcode CliError} carries a one-line message and an exit code; the
 * entry point prints the message without a stack trace (unless `--debug`).
 *
 * @module
 */

/** Exit code of a command that failed at run time (registry down, tool error, unknown name). */
export const EXIT_FAILURE = 1;

/** Exit code of a command line that is wrong in itself (bad option value, bad JSON, bad file). */
export const EXIT_USAGE = 2;

/** An error whose message is meant for the operator, printed as one line. */
export class CliError extends Error {
  /** Process exit code to use (default {@linkcode EXIT_FAILURE}). */
  readonly exitCode: number;

  /**
   * @param message One line explaining what went wrong and, when possible, what to do.
   * @param options `exitCode` (default {@linkcode EXIT_FAILURE}) and the underlying `cause`.
   */
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode ?? EXIT_FAILURE;
  }
}

/**
 * A mistake in the command line itself, found before anything runs: exits
 * with {@linkcode EXIT_USAGE}.
 */
export class UsageError extends CliError {
  /**
   * @param message One line naming the bad argument and what is expected.
   * @param options The underlying `cause`.
   */
  constructor(message: string, options: { cause?: unknown } = {}) {
    super(message, { exitCode: EXIT_USAGE, cause: options.cause });
    this.name = "UsageError";
  }
}
