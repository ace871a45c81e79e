// Team access: what each role's rendered rules grant, where they are bound, and to which group.
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { TEAM_ROLES, TeamAccess, teamClusterRole, teamRoleBinding, type PolicyRule, type TeamRole } from "../components/access";
import { accessSchema } from "../components/config";
import { eksAccessEntries, callerAccessWarning } from "../components/cluster/eksSpec";
import { type CapturedResource, runProgram, validateKubernetesObjects } from "./harness";

const GROUPS = accessSchema.parse({}).groups;
const rulesOf = (role: TeamRole): PolicyRule[] => teamClusterRole(role, "prod").rules;

/** Verbs the rules grant on a resource of a group, wildcards included (as the API server reads them). */
function verbsOn(rules: PolicyRule[], group: string, resource: string): string[] {
    const verbs = new Set<string>();
    for (const r of rules) {
        const groupMatches = r.apiGroups.includes(group) || r.apiGroups.includes("*");
        const resourceMatches = r.resources.includes(resource) || r.resources.includes("*");
        if (groupMatches && resourceMatches) for (const v of r.verbs) verbs.add(v);
    }
    return [...verbs].sort();
}

const WRITE_VERBS = ["create", "update", "patch", "delete", "deletecollection", "escalate", "bind", "impersonate"];

describe("team access: the roles' rules", () => {
    it("a viewer's rules grant no verb on Secrets", () => {
        assert.deepEqual(verbsOn(rulesOf("viewer"), "", "secrets"), []);
    });

    it("no role grants any verb on Secrets", () => {
        for (const role of TEAM_ROLES) assert.deepEqual(verbsOn(rulesOf(role), "", "secrets"), [], role);
    });

    it("no role has a wildcard group, resource or verb (a wildcard would include Secrets and whatever comes later)", () => {
        for (const role of TEAM_ROLES) {
            for (const rule of rulesOf(role)) {
                for (const field of ["apiGroups", "resources", "verbs"] as const) {
                    assert.ok(!rule[field].some((v) => v.includes("*")), `${role}: ${field} ${JSON.stringify(rule[field])}`);
                }
            }
        }
    });

    it("viewers only read: no write verb anywhere, no exec, attach or port-forward (a GET on pods/exec is an exec)", () => {
        const rules = rulesOf("viewer");
        for (const rule of rules)
            assert.deepEqual(
                rule.verbs.filter((v) => WRITE_VERBS.includes(v)),
                [],
                JSON.stringify(rule),
            );
        for (const sub of ["pods/exec", "pods/attach", "pods/portforward", "pods/proxy", "services/proxy"]) {
            assert.deepEqual(verbsOn(rules, "", sub), [], sub);
        }
        assert.deepEqual(verbsOn(rules, "", "pods/log"), ["get", "list", "watch"], "logs are readable");
        assert.deepEqual(verbsOn(rules, "apps", "deployments"), ["get", "list", "watch"]);
    });

    it("operators also exec, restart and scale", () => {
        const rules = rulesOf("operator");
        assert.deepEqual(verbsOn(rules, "", "pods/exec"), ["create", "get"]);
        assert.ok(verbsOn(rules, "apps", "deployments").includes("patch"), "kubectl rollout restart patches the Deployment");
        assert.deepEqual(verbsOn(rules, "apps", "deployments/scale"), ["get", "patch", "update"]);
        assert.ok(verbsOn(rules, "", "pods").includes("delete"));
        assert.deepEqual(verbsOn(rules, "", "pods/attach"), []);
        // Everything a viewer may do, an operator may do.
        for (const rule of rulesOf("viewer")) {
            for (const g of rule.apiGroups)
                for (const res of rule.resources)
                    for (const v of rule.verbs) assert.ok(verbsOn(rules, g, res).includes(v), `${g}/${res} ${v}`);
        }
    });

    it("database admins exec (psql), run backups on demand and pause them", () => {
        const rules = rulesOf("databaseAdmin");
        assert.deepEqual(verbsOn(rules, "", "pods/exec"), ["create", "get"]);
        assert.ok(verbsOn(rules, "batch", "jobs").includes("create"), "kubectl create job --from=cronjob/...");
        assert.ok(verbsOn(rules, "batch", "cronjobs").includes("patch"), "suspend the backup CronJob");
        assert.deepEqual(verbsOn(rules, "apps", "deployments"), ["get", "list", "watch"], "apps are not theirs to change");
    });

    it("each role is bound to its group in exactly its namespace", () => {
        const bindings = TEAM_ROLES.map((role) => teamRoleBinding(role, GROUPS, "prod"));
        assert.deepEqual(
            bindings.map((b) => [b.metadata.namespace, b.roleRef.kind, b.roleRef.name, b.subjects]),
            [
                [
                    "orders-apps",
                    "ClusterRole",
                    "orders-platform-viewer",
                    [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "orders-platform:viewers" }],
                ],
                [
                    "orders-apps",
                    "ClusterRole",
                    "orders-platform-operator",
                    [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "orders-platform:operators" }],
                ],
                [
                    "orders-data",
                    "ClusterRole",
                    "orders-platform-database-admin",
                    [{ apiGroup: "rbac.authorization.k8s.io", kind: "Group", name: "orders-platform:database-admins" }],
                ],
            ],
        );
    });
});

describe("team access: the component under mocks", () => {
    let resources: CapturedResource[];
    before(async () => {
        const groups = { viewers: "viewers@example.com", operators: "operators@example.com", databaseAdmins: "dbas@example.com" };
        resources = (
            await runProgram(() => {
                const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
                new TeamAccess(
                    "team-access",
                    { environment: "staging", groups, namespaces: { app: "orders-apps", data: "orders-data" } },
                    { provider },
                );
            })
        ).resources;
    });

    it("registers three ClusterRoles and three RoleBindings (no ClusterRoleBinding) that pass schema validation", async () => {
        const kinds = resources.filter((r) => r.type.startsWith("kubernetes:rbac")).map((r) => r.inputs.kind);
        assert.deepEqual(kinds.sort(), ["ClusterRole", "ClusterRole", "ClusterRole", "RoleBinding", "RoleBinding", "RoleBinding"]);
        assert.deepEqual(await validateKubernetesObjects(resources), []);
    });

    it("binds the configured groups (Google groups here, as on GKE)", () => {
        const subjects = resources
            .filter((r) => r.inputs.kind === "RoleBinding")
            .map((r) => `${r.inputs.metadata.namespace}:${r.inputs.subjects[0].name}->${r.inputs.roleRef.name}`)
            .sort();
        assert.deepEqual(subjects, [
            "orders-apps:operators@example.com->orders-platform-operator",
            "orders-apps:viewers@example.com->orders-platform-viewer",
            "orders-data:dbas@example.com->orders-platform-database-admin",
        ]);
    });
});

describe("team access: EKS access entries", () => {
    const DEPLOYER = "arn:aws:iam::123456789012:role/ci-deploy";
    const entries = (team: Partial<Record<"viewers" | "operators" | "databaseAdmins", string[]>>, admins: string[] = []) =>
        eksAccessEntries({
            deployerRoleArn: DEPLOYER,
            adminPrincipalArns: admins,
            team: { viewers: [], operators: [], databaseAdmins: [], ...team },
            groups: GROUPS,
        });

    it("the deployer is always the first, cluster-admin entry with a fixed name", () => {
        assert.deepEqual(entries({})[0], { id: "deployer", principalArn: DEPLOYER, clusterAdmin: true, kubernetesGroups: [] });
    });

    it("one entry per principal; admins need no groups; names do not depend on list order", () => {
        const alice = "arn:aws:iam::123456789012:user/alice";
        const bob = "arn:aws:iam::123456789012:role/bob";
        const a = entries({ viewers: [alice, bob], operators: [bob], databaseAdmins: [DEPLOYER] });
        assert.deepEqual(
            a.map((e) => [e.principalArn, e.clusterAdmin, e.kubernetesGroups]),
            [
                [DEPLOYER, true, []],
                [alice, false, ["orders-platform:viewers"]],
                [bob, false, ["orders-platform:viewers", "orders-platform:operators"]],
            ],
        );
        const b = entries({ viewers: [bob, alice], operators: [bob] });
        const ids = (list: typeof a) => Object.fromEntries(list.map((e) => [e.principalArn, e.id]));
        assert.deepEqual(ids(b), ids(a));
        assert.match(ids(a)[alice], /^alice-[0-9a-f]{8}$/);
    });

    it("warns a caller that is neither the deployer nor an admin", () => {
        const list = entries({ viewers: ["arn:aws:iam::123456789012:role/me"] }, ["arn:aws:iam::123456789012:role/admin"]);
        assert.equal(callerAccessWarning(DEPLOYER, list), undefined);
        assert.equal(callerAccessWarning("arn:aws:iam::123456789012:role/admin", list), undefined);
        assert.match(
            callerAccessWarning("arn:aws:iam::123456789012:role/me", list) ?? "",
            /role\/me\) is neither .*deployerRoleArn \(arn:aws:iam::123456789012:role\/ci-deploy\)/,
        );
    });
});
