// The ValidatingAdmissionPolicies of a stack: the policy pack's workload rules with the stack's
// policy config (policy/config/<environment>.json, the file every preview and deploy passes to the
// pack), bound in each namespace the program owns. The generator is the pack's own
// (policy/admission), so the cluster and the preview judge by the same rules and exemptions.
import * as fs from "node:fs";
import * as path from "node:path";
import { admissionPolicies, type AdmissionObjects, type PolicyPackConfigFile } from "../../policy/admission/generate";
import type { AdmissionConfig, Environment } from "../config";

export const POLICY_CONFIG_DIR = path.join(__dirname, "..", "..", "policy", "config");

/** The policy config file of an environment, as `--policy-pack-config` passes it. */
export function policyConfigOf(environment: Environment): PolicyPackConfigFile {
    return JSON.parse(fs.readFileSync(path.join(POLICY_CONFIG_DIR, `${environment}.json`), "utf8")) as PolicyPackConfigFile;
}

/** Policies and bindings for the stack; none when `admission.enabled` is false. */
export function admissionSpecs(environment: Environment, config: AdmissionConfig, namespaces: readonly string[]): AdmissionObjects {
    if (!config.enabled) return { policies: [], bindings: [] };
    return admissionPolicies({
        policyConfig: policyConfigOf(environment),
        namespaces: [...namespaces].sort(),
        actions: { mandatory: [...config.mandatoryActions], advisory: [...config.advisoryActions] },
    });
}
