// Applies generated ValidatingAdmissionPolicies and bindings to an object the way kube-apiserver
// does, with @bufbuild/cel (a CEL implementation checked against the cel-spec conformance suite)
// and its strings extension: match constraints, binding namespace selectors, match conditions,
// variables, validations, failurePolicy Fail. Tests use it to put the CEL rules and the pack
// side by side; the real API server runs them in the engine tests.
import { celEnv, isCelError, parse, plan, type CelValue } from "@bufbuild/cel";
import { strings } from "@bufbuild/cel/ext";

type Obj = Record<string, any>;

const env = celEnv({ funcs: strings });
const planned = new Map<string, ReturnType<typeof plan>>();

function compile(expression: string): ReturnType<typeof plan> {
    let p = planned.get(expression);
    if (!p) {
        p = plan(env, parse(expression));
        planned.set(expression, p);
    }
    return p;
}

/** JSON as the API server hands it to CEL: integers are int, absent and null fields do not exist. */
export function toCel(v: unknown): unknown {
    if (typeof v === "number") return Number.isInteger(v) ? BigInt(v) : v;
    if (Array.isArray(v)) return v.map(toCel);
    if (v && typeof v === "object") {
        const out: Obj = {};
        for (const [k, x] of Object.entries(v)) if (x !== undefined && x !== null) out[k] = toCel(x);
        return out;
    }
    return v;
}

export function evaluate(expression: string, bindings: Record<string, unknown>): { value?: CelValue; error?: string } {
    try {
        const r = compile(expression)(bindings as never);
        if (isCelError(r)) return { error: r.message };
        return { value: r };
    } catch (err) {
        return { error: (err as Error).message };
    }
}

const RESOURCES: Record<string, [group: string, resource: string]> = {
    Pod: ["", "pods"],
    ReplicationController: ["", "replicationcontrollers"],
    Deployment: ["apps", "deployments"],
    StatefulSet: ["apps", "statefulsets"],
    DaemonSet: ["apps", "daemonsets"],
    ReplicaSet: ["apps", "replicasets"],
    Job: ["batch", "jobs"],
    CronJob: ["batch", "cronjobs"],
};

export interface Request {
    object: Obj;
    operation?: "CREATE" | "UPDATE";
    /** "ephemeralcontainers" for kubectl debug */
    subResource?: string;
}

export interface Failure {
    policy: string;
    binding: string;
    actions: string[];
    /** The static message (names the pack policy first). */
    message: string;
    /** What the API server would print: the messageExpression's result. */
    shown: string;
    error?: string;
}

export interface Decision {
    failures: Failure[];
    /** Policies whose constraints, binding and conditions matched the request. */
    evaluatedBy: string[];
}

function matchesConstraints(policy: Obj, kind: string, subResource: string): boolean {
    const gr = RESOURCES[kind];
    if (!gr) return false;
    const resource = subResource ? `${gr[1]}/${subResource}` : gr[1];
    return (policy.spec.matchConstraints?.resourceRules ?? []).some(
        (r: Obj) => r.apiGroups.includes(gr[0]) && r.resources.includes(resource) && r.operations.includes("CREATE"),
    );
}

function bindingSelects(binding: Obj, namespace: string): boolean {
    const sel = binding.spec.matchResources?.namespaceSelector;
    if (!sel) return true;
    return Object.entries(sel.matchLabels ?? {}).every(([k, v]) => k === "kubernetes.io/metadata.name" && v === namespace);
}

/** What the policies and bindings decide about one request. */
export function admit(objects: { policies: Obj[]; bindings: Obj[] }, req: Request): Decision {
    const object = toCel(req.object) as Obj;
    const namespace = (req.object.metadata?.namespace as string | undefined) ?? "default";
    const subResource = req.subResource ?? "";
    const request = toCel({
        operation: req.operation ?? "CREATE",
        namespace,
        name: req.object.metadata?.name ?? "",
        // Like the API server: an empty subResource is not there at all.
        ...(subResource ? { subResource } : {}),
        kind: { group: RESOURCES[req.object.kind]?.[0] ?? "", version: "v1", kind: req.object.kind },
    });
    const decision: Decision = { failures: [], evaluatedBy: [] };
    for (const policy of objects.policies) {
        if (!matchesConstraints(policy, req.object.kind, subResource)) continue;
        const bindings = objects.bindings.filter((b) => b.spec.policyName === policy.metadata.name && bindingSelects(b, namespace));
        if (bindings.length === 0) continue;
        const base = { object, oldObject: null, request };
        const fail = (message: string, shown: string, error?: string) => {
            for (const b of bindings)
                decision.failures.push({
                    policy: policy.metadata.name,
                    binding: b.metadata.name,
                    actions: b.spec.validationActions,
                    message,
                    shown,
                    error,
                });
        };
        let matched = true;
        for (const c of policy.spec.matchConditions ?? []) {
            const r = evaluate(c.expression, base);
            if (r.error) {
                fail(`matchCondition ${c.name} failed`, r.error, r.error);
                matched = false;
                break;
            }
            if (r.value !== true) {
                matched = false;
                break;
            }
        }
        if (!matched) continue;
        decision.evaluatedBy.push(policy.metadata.name);
        const variables: Obj = {};
        for (const v of policy.spec.variables ?? []) {
            const r = evaluate(v.expression, { ...base, variables });
            // The API server evaluates variables lazily; ours never fail, and a test says so.
            if (r.error) throw new Error(`variable ${v.name} of ${policy.metadata.name} failed: ${r.error}`);
            variables[v.name] = r.value;
        }
        for (const v of policy.spec.validations ?? []) {
            const r = evaluate(v.expression, { ...base, variables });
            if (r.error) {
                fail(v.message, r.error, r.error);
                continue;
            }
            if (r.value === true) continue;
            const m = v.messageExpression ? evaluate(v.messageExpression, { ...base, variables }) : {};
            fail(v.message, typeof m.value === "string" ? m.value : v.message, m.error ? `messageExpression: ${m.error}` : undefined);
        }
    }
    return decision;
}

/** The pack policy a failure belongs to (its message starts with the policy's name). */
export const policyOfFailure = (f: Failure): string => f.message.split(":")[0];
