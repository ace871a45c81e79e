// Budgets: what the stack's workloads can need at their worst, from the config alone, and the
// config checks that refuse a stack whose worst case does not fit.
import type { AppCatalog, ConfigCheck, StackConfig } from "../config";
import { connectionBudgetProblems, memoryProblems, stackConnectionBudget } from "./connectionBudget";

export * from "./connectionBudget";
export * from "./replicaPlan";

/** The worst case of every database client must fit max_connections, and memory must carry them. */
export function databaseBudgetProblems(config: StackConfig, catalog: AppCatalog): string[] {
    return [...connectionBudgetProblems(stackConnectionBudget(config, catalog), config.apps), ...memoryProblems(config.database)];
}

/** Every budget check; a stack config is only accepted when all of them find nothing. */
export const BUDGET_CHECKS: ReadonlyArray<ConfigCheck> = [databaseBudgetProblems];
