// `admission`: the ValidatingAdmissionPolicies that apply the policy pack's workload rules in the
// cluster (components/guardrails). Which rules and exemptions is the pack's config
// (policy/config/<environment>.json); here only whether and with which actions.
import { z } from "zod";
import { actionProblems, VALIDATION_ACTIONS } from "../../../policy/admission/actions";
import { bool } from "./common";

const actions = (level: "mandatory" | "advisory", defaults: string[]) =>
    z
        .array(z.enum(VALIDATION_ACTIONS, { error: `must be one of ${VALIDATION_ACTIONS.join(" | ")}` }), {
            error: `must be a list of ${VALIDATION_ACTIONS.join(", ")}`,
        })
        .default(defaults as never)
        .superRefine((list, ctx) => {
            for (const problem of actionProblems(level, list)) ctx.addIssue({ code: "custom", input: list, message: problem });
        });

export const admissionSchema = z.strictObject({
    /** Deploy the admission policies (also in dev, where the pack is advisory: Warn). */
    enabled: bool().default(true),
    /** Actions for the rules the stack's policy config makes mandatory: Deny, optionally with Audit. */
    mandatoryActions: actions("mandatory", ["Deny"]),
    /** Actions for advisory rules: Warn and/or Audit, never Deny. */
    advisoryActions: actions("advisory", ["Warn"]),
});

export type AdmissionConfig = z.infer<typeof admissionSchema>;
