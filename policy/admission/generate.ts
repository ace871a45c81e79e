// ValidatingAdmissionPolicies (CEL, evaluated by kube-apiserver itself: no webhook, no image) and
// their bindings, generated from the pack's workload policies and a policy config file
// (policy/config/<env>.json). Pure: the program registers the objects, tests evaluate them.
//
// - One policy per enforcement level in use: the pack's `mandatory` rules become
//   `orders-platform-mandatory` (bound with Deny), `advisory` ones `orders-platform-advisory`
//   (Warn); `disabled` rules are left out.
// - The exemptions of the config (single workloads, each with its reason; namespace lists when a
//   config has them) are generated exclusions inside the rule they belong to, with the reason as a
//   CEL comment, so `kubectl get validatingadmissionpolicy -o yaml` shows why.
// - Objects created by a controller of a checked kind (a Deployment's ReplicaSets and Pods, a
//   CronJob's Jobs, ...) are skipped: their template was admitted under the same rules. Ephemeral
//   containers (kubectl debug) are checked on their own subresource.
// - One binding per namespace and policy, selecting that namespace by name: never cluster-wide.
import type { EnforcementLevel } from "@pulumi/policy";
import { workloadPolicies } from "../policies";
import type { WorkloadExemption } from "../lib/config";
import { type PolicyPackConfigFile, resolvePolicyConfig } from "../lib/runner";
import { POD_SPEC_PATHS } from "../lib/workloads";
import { comment, fieldOr, or, str, strList } from "./cel";
import { actionProblems, DEFAULT_ACTIONS, type AdmissionActions } from "./actions";
import { celValidations, normalizedRepository } from "./rules";

export type { PolicyPackConfigFile } from "../lib/runner";
export { actionProblems, DEFAULT_ACTIONS, VALIDATION_ACTIONS, type AdmissionActions, type ValidationAction } from "./actions";

export interface AdmissionOptions {
    policyConfig: PolicyPackConfigFile;
    /** Namespaces to bind the policies in (the program's own). */
    namespaces: readonly string[];
    actions?: Partial<AdmissionActions>;
    labels?: Record<string, string>;
}

type Obj = Record<string, any>;

export interface AdmissionObjects {
    policies: Obj[];
    bindings: Obj[];
}

export const POLICY_PREFIX = "orders-platform";
const API_VERSION = "admissionregistration.k8s.io/v1";

const RESOURCE_RULES = [
    {
        apiGroups: [""],
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        resources: ["pods", "pods/ephemeralcontainers", "replicationcontrollers"],
    },
    {
        apiGroups: ["apps"],
        apiVersions: ["v1"],
        operations: ["CREATE", "UPDATE"],
        resources: ["deployments", "statefulsets", "daemonsets", "replicasets"],
    },
    { apiGroups: ["batch"], apiVersions: ["v1"], operations: ["CREATE", "UPDATE"], resources: ["jobs", "cronjobs"] },
];

/** Controllers whose children are skipped: (apiVersion, kind) of the owner reference. */
const CONTROLLERS: ReadonlyArray<[string, string]> = [
    ["apps/v1", "Deployment"],
    ["apps/v1", "ReplicaSet"],
    ["apps/v1", "StatefulSet"],
    ["apps/v1", "DaemonSet"],
    ["batch/v1", "Job"],
    ["batch/v1", "CronJob"],
    ["v1", "ReplicationController"],
];

// The API server leaves subResource out of the request when there is none.
const EPHEMERAL = "(has(request.subResource) && request.subResource == 'ephemeralcontainers')";

const MATCH_CONDITIONS = [
    {
        name: "not-being-deleted",
        // Finalizer removal on an object that is going away must never be blocked.
        expression: "!has(object.metadata.deletionTimestamp)",
    },
    {
        name: "not-created-by-a-checked-controller",
        expression: `${EPHEMERAL} || !has(object.metadata.ownerReferences) || !object.metadata.ownerReferences.exists(r, has(r.controller) && r.controller == true && (${CONTROLLERS.map(([v, k]) => `(r.apiVersion == ${str(v)} && r.kind == ${str(k)})`).join(" || ")}))`,
    },
];

/** The pod spec of any pod-bearing kind, from the pack's own path table. */
function podSpecExpression(): string {
    const byPath = new Map<string, string[]>();
    for (const [kind, path] of Object.entries(POD_SPEC_PATHS)) {
        const key = ["object", ...path].join(".");
        byPath.set(key, [...(byPath.get(key) ?? []), kind]);
    }
    const entries = [...byPath.entries()];
    const [fallback] = entries.pop()!;
    return entries.reduceRight((acc, [expr, kinds]) => `object.kind in ${strList(kinds)} ? ${expr} : ${acc}`, fallback);
}

const PS = "variables.podSpec";

function commonVariables(): Obj[] {
    const init = fieldOr(PS, ["initContainers"], "[]");
    const regular = fieldOr(PS, ["containers"], "[]");
    const ephemeral = fieldOr(PS, ["ephemeralContainers"], "[]");
    return [
        { name: "podSpec", expression: podSpecExpression() },
        { name: "podLevel", expression: `!(${EPHEMERAL})` },
        { name: "workloadContainers", expression: `${EPHEMERAL} ? [] : ${init} + ${regular}` },
        { name: "containers", expression: `${EPHEMERAL} ? ${ephemeral} : ${init} + ${regular} + ${ephemeral}` },
        {
            name: "images",
            expression: `variables.containers.map(c, {'name': c.name, 'image': has(c.image) ? c.image : '', 'repo': has(c.image) ? ${normalizedRepository("c.image")} : ''})`,
        },
        {
            name: "workload",
            expression: `object.kind + ' ' + request.namespace + '/' + (has(object.metadata.name) ? object.metadata.name : '')`,
        },
    ];
}

export const exemptionVariable = (policy: string) => `exempt_${policy.replace(/[^A-Za-z0-9]/g, "_")}`;

/** The exclusions of one rule: its single workloads (with reasons) and any namespace list. */
function exemptionExpression(workloads: readonly WorkloadExemption[], namespaces: readonly string[]): string {
    const terms = workloads.map(
        (w) =>
            `${comment(`${w.namespace}/${w.kind}/${w.name}: ${w.reason}`)}(request.namespace == ${str(w.namespace)} && object.kind == ${str(w.kind)} && object.metadata.name == ${str(w.name)})`,
    );
    for (const ns of namespaces) {
        terms.push(ns.endsWith("*") ? `request.namespace.startsWith(${str(ns.slice(0, -1))})` : `request.namespace == ${str(ns)}`);
    }
    return terms.length === 0 ? "false" : terms.length === 1 ? terms[0] : or(terms);
}

type Level = "mandatory" | "advisory";
const levelOf = (l: EnforcementLevel): Level | undefined => (l === "disabled" ? undefined : l === "advisory" ? "advisory" : "mandatory");

/** The policies and bindings for a policy config file. */
export function admissionPolicies(opts: AdmissionOptions): AdmissionObjects {
    const actions: AdmissionActions = { ...DEFAULT_ACTIONS, ...(opts.actions ?? {}) };
    for (const level of ["mandatory", "advisory"] as const) {
        const problems = actionProblems(level, actions[level]);
        if (problems.length > 0) throw new Error(`admission actions for ${level} rules: ${problems.join("; ")}`);
    }
    const resolved = resolvePolicyConfig(opts.policyConfig);
    const byLevel = new Map<Level, string[]>();
    for (const p of workloadPolicies) {
        const level = levelOf(resolved.get(p.name)!.enforcementLevel);
        if (level) byLevel.set(level, [...(byLevel.get(level) ?? []), p.name]);
    }
    const labels = { "app.kubernetes.io/part-of": "orders-platform", ...(opts.labels ?? {}) };
    const policies: Obj[] = [];
    const bindings: Obj[] = [];
    for (const level of ["mandatory", "advisory"] as const) {
        const names = byLevel.get(level);
        if (!names) continue;
        const name = `${POLICY_PREFIX}-${level}`;
        const variables = commonVariables();
        const validations: Obj[] = [];
        for (const policy of names) {
            const { properties } = resolved.get(policy)!;
            const exemptVar = exemptionVariable(policy);
            variables.push({
                name: exemptVar,
                expression: exemptionExpression(
                    (properties.excludedWorkloads as WorkloadExemption[]) ?? [],
                    (properties.excludedNamespaces as string[]) ?? [],
                ),
            });
            for (const v of celValidations(policy, properties)) {
                validations.push({
                    expression: `variables.${exemptVar} || (${v.expression})`,
                    messageExpression: v.messageExpression,
                    message: v.message,
                    reason: "Forbidden",
                });
            }
        }
        policies.push({
            apiVersion: API_VERSION,
            kind: "ValidatingAdmissionPolicy",
            metadata: {
                name,
                labels,
                annotations: {
                    "orders-platform.io/rules": names.join(","),
                    "orders-platform.io/source": "policy/admission (generated from the policy pack and policy/config/<environment>.json)",
                },
            },
            spec: {
                failurePolicy: "Fail",
                matchConstraints: { resourceRules: RESOURCE_RULES },
                matchConditions: MATCH_CONDITIONS,
                variables,
                validations,
            },
        });
        for (const namespace of opts.namespaces) {
            bindings.push({
                apiVersion: API_VERSION,
                kind: "ValidatingAdmissionPolicyBinding",
                metadata: { name: `${name}-${namespace}`, labels },
                spec: {
                    policyName: name,
                    validationActions: actions[level],
                    matchResources: { namespaceSelector: { matchLabels: { "kubernetes.io/metadata.name": namespace } } },
                },
            });
        }
    }
    return { policies, bindings };
}
