// Validation actions of the admission policies, by the pack's enforcement level. A leaf module: the
// program's config schema checks `admission.*Actions` with it, without loading the pack.

export type ValidationAction = "Deny" | "Warn" | "Audit";
export const VALIDATION_ACTIONS = ["Deny", "Warn", "Audit"] as const satisfies readonly ValidationAction[];

export interface AdmissionActions {
    /** Actions of the pack's mandatory rules (default ["Deny"]; must include Deny). */
    mandatory: ValidationAction[];
    /** Actions of its advisory rules (default ["Warn"]; never Deny). */
    advisory: ValidationAction[];
}

export const DEFAULT_ACTIONS: AdmissionActions = { mandatory: ["Deny"], advisory: ["Warn"] };

/** Problems with a set of actions, phrased for a config key (empty when valid). */
export function actionProblems(level: keyof AdmissionActions, actions: readonly string[]): string[] {
    const problems: string[] = [];
    const unknown = actions.filter((a) => !(VALIDATION_ACTIONS as readonly string[]).includes(a));
    if (unknown.length > 0) problems.push(`${unknown.join(", ")}: allowed are ${VALIDATION_ACTIONS.join(", ")}`);
    if (actions.length === 0) problems.push("must name at least one action");
    if (new Set(actions).size !== actions.length) problems.push("names an action twice");
    if (actions.includes("Deny") && actions.includes("Warn"))
        problems.push("Deny and Warn cannot be combined (the API server refuses it); use Deny with Audit");
    if (level === "mandatory" && !actions.includes("Deny"))
        problems.push("must include Deny: these rules are mandatory in the policy pack, so the cluster refuses what the preview refuses");
    if (level === "advisory" && actions.includes("Deny"))
        problems.push("must not include Deny: these rules are advisory in the policy pack");
    return problems;
}
