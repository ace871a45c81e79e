// The validated config of a shipped stack, for tests that build components directly.
import { loadAppCatalog, parseStackConfig, StackConfig } from "../../components/config";
import { rawStackConfig } from "./stackConfig";

export const appCatalog = loadAppCatalog();

/** Validated config of a shipped stack with dotted overrides, e.g. `{ "apps.users.canary.weight": 50 }`. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): StackConfig {
    return parseStackConfig(rawStackConfig(stack, overrides), stack, appCatalog);
}
