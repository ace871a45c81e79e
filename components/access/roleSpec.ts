// Team access as pure data: one ClusterRole per team role (a definition only; a ClusterRole grants
// nothing until it is bound) and a RoleBinding per namespace that binds it to the role's group. So
// people get these rights in exactly the app or data namespace and nowhere else.
//
// No rule names Secrets or a wildcard: a ClusterRole whose resources or verbs contain "*" would
// include Secrets (and every resource added later). Read access to `pods/exec` is exec access too
// (kubectl's WebSocket exec is a GET), so only operators and database admins get any verb on it.
import { APP_NAMESPACE, DATA_NAMESPACE, platformLabels } from "../naming";

export interface PolicyRule {
    apiGroups: string[];
    resources: string[];
    verbs: string[];
}

export const TEAM_ROLES = ["viewer", "operator", "databaseAdmin"] as const;
export type TeamRole = (typeof TEAM_ROLES)[number];

/** Group name per role: `access.groups.{viewers, operators, databaseAdmins}`. */
export interface TeamGroups {
    viewers: string;
    operators: string;
    databaseAdmins: string;
}

const READ = ["get", "list", "watch"];

/** Read workloads, their configuration, events and logs; never Secrets. */
export const VIEWER_RULES: readonly PolicyRule[] = [
    {
        apiGroups: [""],
        resources: ["pods", "pods/log", "services", "endpoints", "configmaps", "events", "persistentvolumeclaims", "serviceaccounts"],
        verbs: READ,
    },
    { apiGroups: ["apps"], resources: ["deployments", "replicasets", "statefulsets", "daemonsets", "controllerrevisions"], verbs: READ },
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: READ },
    { apiGroups: ["policy"], resources: ["poddisruptionbudgets"], verbs: READ },
    { apiGroups: ["batch"], resources: ["jobs", "cronjobs"], verbs: READ },
    { apiGroups: ["networking.k8s.io"], resources: ["networkpolicies", "ingresses"], verbs: READ },
    { apiGroups: ["discovery.k8s.io"], resources: ["endpointslices"], verbs: READ },
    { apiGroups: ["events.k8s.io"], resources: ["events"], verbs: READ },
    // `kubectl top pods`
    { apiGroups: ["metrics.k8s.io"], resources: ["pods"], verbs: READ },
    { apiGroups: ["networking.istio.io"], resources: ["virtualservices", "destinationrules", "gateways", "sidecars"], verbs: READ },
    {
        apiGroups: ["security.istio.io"],
        resources: ["authorizationpolicies", "peerauthentications", "requestauthentications"],
        verbs: READ,
    },
    { apiGroups: ["monitoring.coreos.com"], resources: ["podmonitors", "servicemonitors", "prometheusrules"], verbs: READ },
];

/** `kubectl exec` needs create (SPDY, and WebSocket under KEP-4006) and get (WebSocket upgrade). */
const EXEC: PolicyRule = { apiGroups: [""], resources: ["pods/exec"], verbs: ["create", "get"] };
/** Deleting a pod restarts it (its controller recreates it). */
const DELETE_PODS: PolicyRule = { apiGroups: [""], resources: ["pods"], verbs: ["delete"] };

/** Viewer, plus restart (`kubectl rollout restart` patches the template), scale and exec. */
export const OPERATOR_RULES: readonly PolicyRule[] = [
    ...VIEWER_RULES,
    EXEC,
    DELETE_PODS,
    { apiGroups: ["apps"], resources: ["deployments", "statefulsets"], verbs: ["patch"] },
    { apiGroups: ["apps"], resources: ["deployments/scale", "statefulsets/scale"], verbs: ["get", "update", "patch"] },
    // An HPA owns the replica count: scaling such an app means moving its bounds.
    { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs: ["patch"] },
];

/**
 * The data namespace: viewer rights, psql through exec in the PostgreSQL pod (local socket, no
 * password needed), restart and scale the StatefulSet, run a backup now (`kubectl create job
 * --from=cronjob/...`), pause backups, grow volumes. Still no Secrets.
 */
export const DATABASE_ADMIN_RULES: readonly PolicyRule[] = [
    ...VIEWER_RULES,
    EXEC,
    DELETE_PODS,
    { apiGroups: ["apps"], resources: ["statefulsets"], verbs: ["patch"] },
    { apiGroups: ["apps"], resources: ["statefulsets/scale"], verbs: ["get", "update", "patch"] },
    { apiGroups: ["batch"], resources: ["jobs"], verbs: ["create", "delete"] },
    { apiGroups: ["batch"], resources: ["cronjobs"], verbs: ["patch"] },
    { apiGroups: [""], resources: ["persistentvolumeclaims"], verbs: ["patch"] },
];

interface RoleDefinition {
    /** ClusterRole name. */
    clusterRole: string;
    /** The `access.groups` key naming its group. */
    groupKey: keyof TeamGroups;
    /** The one namespace it is bound in. */
    namespace: string;
    rules: readonly PolicyRule[];
    description: string;
}

export const ROLE_DEFINITIONS: Readonly<Record<TeamRole, RoleDefinition>> = {
    viewer: {
        clusterRole: "orders-platform-viewer",
        groupKey: "viewers",
        namespace: APP_NAMESPACE,
        rules: VIEWER_RULES,
        description: "read workloads and logs in the app namespace, never Secrets",
    },
    operator: {
        clusterRole: "orders-platform-operator",
        groupKey: "operators",
        namespace: APP_NAMESPACE,
        rules: OPERATOR_RULES,
        description: "viewer, plus restart, scale and exec in the app namespace",
    },
    databaseAdmin: {
        clusterRole: "orders-platform-database-admin",
        groupKey: "databaseAdmins",
        namespace: DATA_NAMESPACE,
        rules: DATABASE_ADMIN_RULES,
        description: "the data namespace: read, exec (psql), restart, on-demand backups, volume growth",
    },
};

const RBAC_API = "rbac.authorization.k8s.io";

export interface ClusterRoleObject {
    apiVersion: "rbac.authorization.k8s.io/v1";
    kind: "ClusterRole";
    metadata: { name: string; labels: Record<string, string>; annotations: Record<string, string> };
    rules: PolicyRule[];
}

export interface RoleBindingObject {
    apiVersion: "rbac.authorization.k8s.io/v1";
    kind: "RoleBinding";
    metadata: { name: string; namespace: string; labels: Record<string, string> };
    roleRef: { apiGroup: string; kind: "ClusterRole"; name: string };
    subjects: Array<{ apiGroup: string; kind: "Group"; name: string }>;
}

export function teamClusterRole(role: TeamRole, environment: string): ClusterRoleObject {
    const def = ROLE_DEFINITIONS[role];
    return {
        apiVersion: `${RBAC_API}/v1`,
        kind: "ClusterRole",
        metadata: {
            name: def.clusterRole,
            labels: platformLabels(environment, "access"),
            annotations: { "orders-platform/description": def.description },
        },
        rules: def.rules.map((r) => ({ apiGroups: [...r.apiGroups], resources: [...r.resources], verbs: [...r.verbs] })),
    };
}

/** Binds a role's ClusterRole to its group, in the role's namespace only. */
export function teamRoleBinding(role: TeamRole, groups: TeamGroups, environment: string): RoleBindingObject {
    const def = ROLE_DEFINITIONS[role];
    return {
        apiVersion: `${RBAC_API}/v1`,
        kind: "RoleBinding",
        metadata: { name: def.clusterRole, namespace: def.namespace, labels: platformLabels(environment, "access") },
        roleRef: { apiGroup: RBAC_API, kind: "ClusterRole", name: def.clusterRole },
        subjects: [{ apiGroup: RBAC_API, kind: "Group", name: groups[def.groupKey] }],
    };
}

/** The group a role is bound to. */
export function groupOf(role: TeamRole, groups: TeamGroups): string {
    return groups[ROLE_DEFINITIONS[role].groupKey];
}

/** Resources a rule set grants any verb on, as `group/resource` ("" is the core group). */
export function grantedResources(rules: readonly PolicyRule[]): Map<string, Set<string>> {
    const out = new Map<string, Set<string>>();
    for (const rule of rules) {
        for (const group of rule.apiGroups) {
            for (const resource of rule.resources) {
                const key = `${group}/${resource}`;
                const verbs = out.get(key) ?? new Set<string>();
                for (const v of rule.verbs) verbs.add(v);
                out.set(key, verbs);
            }
        }
    }
    return out;
}
