/**
 * The one error type meshctl shows to operators.
 *
 * A {@linkcode CliError} carries a one-line message and an exit code; the
 * entry point prints the message without a stack trace (unless `--debug`).
 *
 * @module
 */

/** An error whose message is meant for the operator, printed as one line. */
export class CliError extends Error {
  /** Process exit code to use (default 1). */
  readonly exitCode: number;

  /**
   * @param message One line explaining what went wrong and, when possible, what to do.
   * @param options `exitCode` (default 1) and the underlying `cause`.
   */
  constructor(message: string, options: { exitCode?: number; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = "CliError";
    this.exitCode = options.exitCode ?? 1;
  }
}
