// Registers the stack's ValidatingAdmissionPolicies and their bindings (admissionSpec.ts). Other
// components depend on this one, so the API server applies the rules to every workload the program
// creates after it, as it does to kubectl and GitOps applies.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { AdmissionConfig, Environment } from "../config";
import { platformLabels } from "../naming";
import { admissionSpecs } from "./admissionSpec";

export interface AdmissionPoliciesArgs {
    environment: Environment;
    config: AdmissionConfig;
    /** The namespaces the program owns (each gets one binding per policy). */
    namespaces: readonly string[];
}

export class AdmissionPolicies extends pulumi.ComponentResource {
    /** Names of the policies and bindings, for tests and outputs. */
    public readonly policyNames: string[];
    public readonly bindingNames: string[];

    constructor(name: string, args: AdmissionPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:guardrails:AdmissionPolicies", name, {}, opts);
        const { policies, bindings } = admissionSpecs(args.environment, args.config, args.namespaces);
        const labels = (o: Record<string, any>) => ({ ...o.metadata.labels, ...platformLabels(args.environment, "admission-policy") });
        const created = policies.map(
            (p) =>
                new k8s.admissionregistration.v1.ValidatingAdmissionPolicy(
                    p.metadata.name,
                    { metadata: { ...p.metadata, labels: labels(p) }, spec: p.spec },
                    { parent: this },
                ),
        );
        for (const b of bindings) {
            new k8s.admissionregistration.v1.ValidatingAdmissionPolicyBinding(
                b.metadata.name,
                { metadata: { ...b.metadata, labels: labels(b) }, spec: b.spec },
                { parent: this, dependsOn: created },
            );
        }
        this.policyNames = policies.map((p) => p.metadata.name);
        this.bindingNames = bindings.map((b) => b.metadata.name);
        this.registerOutputs({ policyNames: this.policyNames, bindingNames: this.bindingNames });
    }
}
