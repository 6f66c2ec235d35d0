/**
 * What `pwts` prints for an error. An error that is the user's (bad input, a registry that says no) is printed
 * as one line without a stack trace; anything else is a bug and keeps its stack. The packages mark the first
 * kind with a `PWTS_ERR_*` code (@proxy-wasm-ts/errors), and the switch below decides by that code alone:
 * never by class (`instanceof` fails across two installed copies of a package) or by message.
 */
import { type ErrorCode, hasErrorCode, PwtsError } from "@proxy-wasm-ts/errors";

/** An error caused by the user's input: printed as one line, without a stack trace. */
export class UserError extends PwtsError {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super("PWTS_ERR_USAGE", message);
  }
}

/** True when an error with this code is a verdict on the user's input or environment, not a bug. */
function isUsersError(code: ErrorCode): boolean {
  switch (code) {
    case "PWTS_ERR_USAGE":
    case "PWTS_ERR_WASM_BINARY":
    case "PWTS_ERR_MODULE_LOAD":
    case "PWTS_ERR_PLUGIN_START":
    case "PWTS_ERR_CONFIG":
    case "PWTS_ERR_LISTEN":
    case "PWTS_ERR_CALLBACK_TIMEOUT":
    case "PWTS_ERR_COMPILE":
    case "PWTS_ERR_INVALID_WASM":
    case "PWTS_ERR_IMAGE_REFERENCE":
    case "PWTS_ERR_REGISTRY_CREDENTIALS":
    case "PWTS_ERR_REGISTRY_AUTH":
    case "PWTS_ERR_REGISTRY_NETWORK":
    case "PWTS_ERR_REGISTRY_NOT_FOUND":
    case "PWTS_ERR_REGISTRY_PROTOCOL":
    case "PWTS_ERR_REGISTRY_INTEGRITY":
    case "PWTS_ERR_NOT_WASM_IMAGE":
    case "PWTS_ERR_PLUGIN_DEPLOYMENT":
    case "PWTS_ERR_WASMPLUGIN_OPTIONS":
      return true;
    default: {
      // A new code must be placed on one side or the other: this line stops compiling until it is.
      const unhandled: never = code;
      return unhandled;
    }
  }
}

/** The UserError an error amounts to, or undefined when it is a bug (to be thrown on, stack and all). */
export function userErrorOf(err: unknown): UserError | undefined {
  if (err instanceof UserError) return err;
  if (hasErrorCode(err) && isUsersError(err.code)) return new UserError(err.message);
  return undefined;
}

/**
 * True for a Node system error (`ENOENT`, `EACCES`, ...: it names the failing `syscall`): a file or socket
 * the user named, not a bug.
 */
export function isSystemError(err: unknown): err is NodeJS.ErrnoException {
  return (
    err instanceof Error &&
    typeof (err as NodeJS.ErrnoException).code === "string" &&
    typeof (err as NodeJS.ErrnoException).syscall === "string"
  );
}
