/** Exit codes of the CLI contract (DESIGN.md). */
export const EXIT_BAD_INPUT = 1;
export const EXIT_UNSUPPORTED = 2;

/**
 * An error the user caused or can act on. The CLI prints `message` as one line (no stack) and
 * exits with `exitCode`. The message names the file and, where there is one, the node or layer.
 */
export class GatecError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT_BAD_INPUT,
  ) {
    super(message);
    this.name = 'GatecError';
  }
}

export function badInput(where: string, reason: string): GatecError {
  return new GatecError(`${where}: ${reason}`, EXIT_BAD_INPUT);
}

export function unsupported(where: string, reason: string): GatecError {
  return new GatecError(`${where}: ${reason}`, EXIT_UNSUPPORTED);
}
