// One run of the shipped prod stack, shared by the reliability suites (each run takes seconds).
import { type ProgramRun, runStack } from "./harness";

let prod: Promise<ProgramRun<Record<string, unknown>>> | undefined;

/** The prod stack as shipped; callers must not modify what it returns. */
export function shippedProdRun(): Promise<ProgramRun<Record<string, unknown>>> {
    prod ??= runStack("prod");
    return prod;
}
