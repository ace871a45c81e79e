import { strict as assert } from "node:assert";
import { secretAccess, secretsRbac } from "../policies/rbac";
import { binding, role } from "./fixtures";
import { stackViolations, toResource } from "./helpers";

const READ = ["get", "list", "watch"];
const grafanaRole = role("Role", "grafana", [{ apiGroups: [""], resources: ["configmaps", "secrets"], verbs: READ }], "monitoring");
const allow = [
    { kind: "Role", namespace: "monitoring", name: "grafana", verbs: READ, reason: "dashboards and data sources in monitoring" },
];

describe("k8s-secrets-rbac", () => {
    it("lists every role and built-in-role binding that grants verbs on Secrets, with its verbs", () => {
        const fixtures = [
            grafanaRole,
            role("ClusterRole", "operator", [{ apiGroups: [""], resources: ["configmaps", "secrets"], verbs: ["*"] }]),
            role("ClusterRole", "istio-config", [{ apiGroups: ["networking.istio.io"], resources: ["*"], verbs: READ }]),
            role("ClusterRole", "wildcard", [{ apiGroups: ["*"], resources: ["*"], verbs: ["list"] }]),
            role("ClusterRole", "pods", [{ apiGroups: [""], resources: ["pods"], verbs: READ }]),
            binding("ClusterRoleBinding", "ci-admin", "cluster-admin"),
            binding("RoleBinding", "viewer", "view", "orders-apps"),
        ];
        assert.deepEqual(
            secretAccess(fixtures.map(toResource)).map((a) => `${a.kind} ${a.namespace ?? ""}/${a.name} [${a.verbs.join(",")}]`),
            [
                "Role monitoring/grafana [get,list,watch]",
                "ClusterRole /operator [*]",
                "ClusterRole /wildcard [list]",
                "ClusterRoleBinding /ci-admin [*]",
            ],
        );
    });

    it("passes an allowed role within its verbs", async () => {
        assert.deepEqual(await stackViolations(secretsRbac, [grafanaRole], { allowedSecretAccess: allow }), []);
    });

    it("fails a role that is not on the allowlist, naming its verbs", async () => {
        assert.deepEqual(await stackViolations(secretsRbac, [grafanaRole]), [
            "Role monitoring/grafana grants [get, list, watch] on Secrets and is not on the allowlist; narrow it to the namespace and verbs it needs, or add it to allowedSecretAccess with the reason",
        ]);
        // The same name as a ClusterRole, or in another namespace, is another object.
        const cluster = role("ClusterRole", "grafana", [{ apiGroups: [""], resources: ["secrets"], verbs: READ }]);
        const elsewhere = role("Role", "grafana", [{ apiGroups: [""], resources: ["secrets"], verbs: READ }], "orders-apps");
        assert.equal((await stackViolations(secretsRbac, [cluster, elsewhere], { allowedSecretAccess: allow })).length, 2);
    });

    it("fails verbs beyond the allowed ones", async () => {
        const writer = role("Role", "grafana", [{ apiGroups: [""], resources: ["secrets"], verbs: [...READ, "update"] }], "monitoring");
        assert.deepEqual(await stackViolations(secretsRbac, [writer], { allowedSecretAccess: allow }), [
            "Role monitoring/grafana grants [update] on Secrets beyond the allowed [get, list, watch] (dashboards and data sources in monitoring); remove them",
        ]);
    });

    it("counts bindings of built-in roles that read Secrets", async () => {
        const v = await stackViolations(secretsRbac, [binding("ClusterRoleBinding", "ci-admin", "cluster-admin")]);
        assert.match(v[0], /^ClusterRoleBinding ci-admin grants \[\*\] on Secrets/);
    });
});
