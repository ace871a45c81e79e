// The validated config of a shipped stack, for tests that build components directly.
import { BUDGET_CHECKS } from "../../components/budgets";
import { ConfigError, loadAppCatalog, parseStackConfig, StackConfig } from "../../components/config";
import { rawStackConfig } from "./stackConfig";

export const appCatalog = loadAppCatalog();

/** Validated config of a shipped stack with dotted overrides, e.g. `{ "apps.users.canary.weight": 50 }`, budgets checked as index.ts does. */
export function stackConfig(stack: string, overrides: Record<string, unknown> = {}): StackConfig {
    return parseStackConfig(rawStackConfig(stack, overrides), stack, appCatalog, { checks: BUDGET_CHECKS });
}

/** The problems the config check reports for a shipped stack with overrides ([] when it is accepted). */
export function stackConfigProblems(stack: string, overrides: Record<string, unknown> = {}): string[] {
    try {
        stackConfig(stack, overrides);
        return [];
    } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
    }
}
