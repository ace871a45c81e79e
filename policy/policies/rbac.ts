// Least privilege on Secrets: every Role/ClusterRole of the stack (the program's own and those the
// charts render) that grants a verb on Secrets must be on the allowlist, with its reason, and may
// grant no verb beyond the listed ones. Bindings to the built-in roles that read Secrets count too.
import type { PolicyResource, StackValidationPolicy } from "@pulumi/policy";
import { configWithDefaults } from "../lib/config";
import { asArray, isObj, kubeType, namespaceOf, objectName } from "../lib/k8s";

export interface SecretAccessEntry {
    kind: "Role" | "ClusterRole" | "RoleBinding" | "ClusterRoleBinding";
    /** Namespace of a Role or RoleBinding. */
    namespace?: string;
    name: string;
    verbs: string[];
    reason: string;
}

/** One object of the stack that grants verbs on Secrets. */
export interface SecretAccess {
    kind: SecretAccessEntry["kind"];
    namespace?: string;
    name: string;
    /** Sorted; "*" stands for every verb. */
    verbs: string[];
    urn: string;
}

/** Built-in ClusterRoles that include Secrets; binding them is secret access. */
export const BUILT_IN_SECRET_ROLES: Readonly<Record<string, string[]>> = {
    "cluster-admin": ["*"],
    admin: ["*"],
    edit: ["*"],
};

const RBAC_GROUP = "rbac.authorization.k8s.io";
const ROLE_KINDS = ["Role", "ClusterRole"];
const BINDING_KINDS = ["RoleBinding", "ClusterRoleBinding"];

const coversSecrets = (rule: Record<string, unknown>) =>
    asArray<string>(rule.apiGroups).some((g) => g === "" || g === "*") &&
    asArray<string>(rule.resources).some((r) => r === "secrets" || r === "*");

/** Verbs a Role/ClusterRole grants on Secrets (empty: none). */
export function secretVerbs(props: Record<string, any>): string[] {
    const verbs = new Set<string>();
    for (const rule of asArray(props.rules))
        if (isObj(rule) && coversSecrets(rule)) for (const v of asArray<string>(rule.verbs)) verbs.add(v);
    return [...verbs].sort();
}

/** Every Role, ClusterRole and built-in-role binding of the resources that grants verbs on Secrets. */
export function secretAccess(resources: readonly Pick<PolicyResource, "type" | "props" | "name" | "urn">[]): SecretAccess[] {
    const out: SecretAccess[] = [];
    for (const r of resources) {
        const t = kubeType(r.type);
        if (!t || t.group !== RBAC_GROUP) continue;
        const namespaced = t.kind === "Role" || t.kind === "RoleBinding";
        let verbs: string[] = [];
        if (ROLE_KINDS.includes(t.kind)) verbs = secretVerbs(r.props);
        else if (BINDING_KINDS.includes(t.kind)) {
            const ref = isObj(r.props.roleRef) ? r.props.roleRef : {};
            if (ref.kind === "ClusterRole" && typeof ref.name === "string") verbs = BUILT_IN_SECRET_ROLES[ref.name] ?? [];
        } else continue;
        if (verbs.length === 0) continue;
        out.push({
            kind: t.kind as SecretAccess["kind"],
            ...(namespaced ? { namespace: namespaceOf(r.props) } : {}),
            name: objectName(r.props, r.name),
            verbs,
            urn: r.urn,
        });
    }
    return out;
}

const describe = (a: Pick<SecretAccess, "kind" | "namespace" | "name">) => `${a.kind} ${a.namespace ? `${a.namespace}/` : ""}${a.name}`;

interface RbacConfig {
    allowedSecretAccess: SecretAccessEntry[];
}

const rbacSchema = {
    properties: {
        allowedSecretAccess: {
            type: "array" as const,
            default: [],
            description:
                "Roles, ClusterRoles and bindings allowed to grant verbs on Secrets, each with its reason: { kind, namespace (Role, RoleBinding), name, verbs, reason }.",
            items: {
                type: "object" as const,
                required: ["kind", "name", "verbs", "reason"],
                properties: {
                    kind: { type: "string" as const, enum: ["Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding"] },
                    namespace: { type: "string" as const },
                    name: { type: "string" as const },
                    verbs: { type: "array" as const, items: { type: "string" as const } },
                    reason: { type: "string" as const },
                },
            },
        },
    },
};

export const secretsRbac: StackValidationPolicy = {
    name: "k8s-secrets-rbac",
    description:
        "Every Role/ClusterRole (and binding of a built-in role) that grants verbs on Secrets is on the stack's allowlist with a reason, and grants no verb beyond the listed ones.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: rbacSchema,
    validateStack: (args, report) => {
        const cfg = configWithDefaults<RbacConfig>(rbacSchema, args);
        for (const access of secretAccess(args.resources)) {
            const entry = cfg.allowedSecretAccess.find(
                (e) => e.kind === access.kind && e.name === access.name && (e.namespace ?? undefined) === access.namespace,
            );
            if (!entry) {
                report(
                    `${describe(access)} grants [${access.verbs.join(", ")}] on Secrets and is not on the allowlist; narrow it to the namespace and verbs it needs, or add it to allowedSecretAccess with the reason`,
                    access.urn,
                );
                continue;
            }
            if (entry.verbs.includes("*")) continue;
            const extra = access.verbs.filter((v) => !entry.verbs.includes(v));
            if (extra.length > 0) {
                report(
                    `${describe(access)} grants [${extra.join(", ")}] on Secrets beyond the allowed [${entry.verbs.join(", ")}] (${entry.reason}); remove them`,
                    access.urn,
                );
            }
        }
    },
};
