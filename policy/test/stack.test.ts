import { strict as assert } from "node:assert";
import { istioMtlsStrict, namespaceDefaultDeny, pdbForReplicated } from "../policies";
import { defaultDeny, deployment, gateway, hpa, networkPolicy, pdb, peerAuthentication, podSpec, workload } from "./fixtures";
import { checkStack, stackViolations } from "./helpers";

describe("k8s-pdb-for-replicated", () => {
    const users = (replicas: number) => deployment(podSpec(), { replicas, labels: { app: "users", track: "stable" } });
    const budget = (spec: Record<string, unknown> = { maxUnavailable: 1, selector: { matchLabels: { app: "users" } } }) =>
        pdb("users", "orders-apps", spec);

    it("passes a single replica without a PDB", async () => {
        assert.deepEqual(await stackViolations(pdbForReplicated, [users(1)]), []);
    });
    it("passes replicated workloads with a matching PDB (matchLabels subset, matchExpressions)", async () => {
        assert.deepEqual(await stackViolations(pdbForReplicated, [users(3), budget()]), []);
        const expr = budget({
            maxUnavailable: 1,
            selector: {
                matchExpressions: [
                    { key: "app", operator: "In", values: ["users", "orders"] },
                    { key: "canary", operator: "DoesNotExist" },
                ],
            },
        });
        assert.deepEqual(await stackViolations(pdbForReplicated, [users(3), expr]), []);
    });
    it("fails a replicated Deployment without a PDB", async () => {
        const r = await checkStack(pdbForReplicated, [users(3)]);
        assert.equal(r.reported.length, 1);
        assert.match(
            r.reported[0].message,
            /^Deployment orders-apps\/users runs more than one pod \(replicas 3\) but no PodDisruptionBudget in namespace orders-apps selects its pod labels \{"app":"users","track":"stable"\}; add a PodDisruptionBudget/,
        );
        assert.equal(r.reported[0].urn, "urn:pulumi:test::orders-platform::kubernetes:apps/v1:Deployment::users");
    });
    it("fails when the PDB is in another namespace or selects other pods", async () => {
        const other = pdb("users", "orders-data", { maxUnavailable: 1, selector: { matchLabels: { app: "users" } } });
        assert.equal((await stackViolations(pdbForReplicated, [users(2), other])).length, 1);
        assert.equal(
            (
                await stackViolations(pdbForReplicated, [
                    users(2),
                    budget({ maxUnavailable: 1, selector: { matchLabels: { app: "users", track: "canary" } } }),
                ])
            ).length,
            1,
        );
        assert.equal(
            (await stackViolations(pdbForReplicated, [users(2), budget({ maxUnavailable: 1 })])).length,
            1,
            "no selector selects nothing",
        );
    });
    it("counts an HPA with minReplicas > 1 as replicated", async () => {
        const one = users(1);
        assert.equal(
            (await stackViolations(pdbForReplicated, [one, hpa("users", "orders-apps", { kind: "Deployment", name: "users" }, 3)])).length,
            1,
        );
        assert.deepEqual(
            await stackViolations(pdbForReplicated, [one, hpa("users", "orders-apps", { kind: "Deployment", name: "users" })]),
            [],
        );
        const v = await stackViolations(pdbForReplicated, [one, hpa("users", "orders-apps", { kind: "Deployment", name: "users" }, 2)]);
        assert.match(v[0], /\(HPA minReplicas 2\)/);
    });
    it("fails a PDB that allows no disruption", async () => {
        const v = await stackViolations(pdbForReplicated, [
            users(3),
            budget({ minAvailable: 3, selector: { matchLabels: { app: "users" } } }),
        ]);
        assert.equal(v.length, 1);
        assert.match(v[0], /^PodDisruptionBudget orders-apps\/users for Deployment orders-apps\/users allows no voluntary disruption/);
        assert.equal((await stackViolations(pdbForReplicated, [users(3), budget({ maxUnavailable: 0, selector: {} })])).length, 1);
    });
    it("covers StatefulSets, not Jobs, and skips excluded namespaces", async () => {
        assert.equal((await stackViolations(pdbForReplicated, [workload("StatefulSet", podSpec(), { replicas: 2 })])).length, 1);
        assert.deepEqual(await stackViolations(pdbForReplicated, [workload("Job")]), []);
        const mon = workload("StatefulSet", podSpec(), { replicas: 2, namespace: "monitoring" });
        assert.deepEqual(await stackViolations(pdbForReplicated, [mon], { excludedNamespaces: ["monitoring"] }), []);
    });
});

describe("k8s-namespace-default-deny", () => {
    const apps = deployment();
    const data = workload("StatefulSet", podSpec(), { namespace: "orders-data", name: "postgres" });
    const backup = workload("CronJob", podSpec(), { namespace: "orders-data", name: "backup" });

    it("passes when every workload namespace has a default deny", async () => {
        assert.deepEqual(
            await stackViolations(namespaceDefaultDeny, [apps, data, backup, defaultDeny("orders-apps"), defaultDeny("orders-data")]),
            [],
        );
    });
    it("passes a stack without workloads", async () => {
        assert.deepEqual(await stackViolations(namespaceDefaultDeny, [defaultDeny("orders-apps")]), []);
    });
    it("fails a namespace without one, naming its workloads", async () => {
        const r = await checkStack(namespaceDefaultDeny, [apps, data, backup, defaultDeny("orders-apps")]);
        assert.equal(r.reported.length, 1);
        assert.match(
            r.reported[0].message,
            /^namespace orders-data holds StatefulSet orders-data\/postgres, CronJob orders-data\/backup but has no default-deny NetworkPolicy; add one with podSelector: \{\}, policyTypes: \[Ingress, Egress\]/,
        );
        assert.match(r.reported[0].urn!, /StatefulSet::postgres$/);
    });
    it("does not count policies that allow traffic or cover one direction", async () => {
        for (const spec of [
            { podSelector: {}, policyTypes: ["Ingress"] },
            { podSelector: {}, policyTypes: ["Ingress", "Egress"], ingress: [{ from: [{ podSelector: {} }] }] },
            { podSelector: { matchLabels: { app: "users" } }, policyTypes: ["Ingress", "Egress"] },
        ]) {
            const v = await stackViolations(namespaceDefaultDeny, [apps, networkPolicy("np", "orders-apps", spec)]);
            assert.equal(v.length, 1, JSON.stringify(spec));
        }
        const v = await stackViolations(namespaceDefaultDeny, [
            apps,
            networkPolicy("ingress-only", "orders-apps", { podSelector: {}, policyTypes: ["Ingress"] }),
        ]);
        assert.match(v[0], /NetworkPolicy ingress-only selects all pods but does not deny both directions/);
    });
    it("accepts empty rule lists and skips excluded namespaces", async () => {
        const np = networkPolicy("deny", "orders-apps", {
            podSelector: { matchLabels: {} },
            policyTypes: ["Egress", "Ingress"],
            ingress: [],
            egress: [],
        });
        assert.deepEqual(await stackViolations(namespaceDefaultDeny, [apps, np]), []);
        const chart = workload("DaemonSet", podSpec(), { namespace: "monitoring", name: "node-exporter" });
        assert.deepEqual(await stackViolations(namespaceDefaultDeny, [chart], { excludedNamespaces: ["monitoring"] }), []);
    });
});

describe("istio-mtls-strict", () => {
    const meshWide = (mode = "STRICT") => peerAuthentication("default", "istio-system", { mtls: { mode } });
    const gw = gateway("edge", "istio-ingress", []);

    it("passes a mesh-wide STRICT policy (security.istio.io or any istio group token)", async () => {
        assert.deepEqual(await stackViolations(istioMtlsStrict, [meshWide(), gw]), []);
        assert.deepEqual(
            await stackViolations(istioMtlsStrict, [
                peerAuthentication("default", "istio-system", { mtls: { mode: "STRICT" } }, "networking.istio.io"),
            ]),
            [],
        );
        assert.deepEqual(
            await stackViolations(istioMtlsStrict, [meshWide(), peerAuthentication("apps", "orders-apps", { mtls: { mode: "UNSET" } })]),
            [],
        );
    });
    it("is not applicable without Istio", async () => {
        const r = await checkStack(istioMtlsStrict, [deployment()]);
        assert.equal(r.applicable, false);
        assert.deepEqual(r.reported, []);
    });
    it("fails Istio without a mesh-wide policy", async () => {
        const v = await stackViolations(istioMtlsStrict, [gw, peerAuthentication("apps", "orders-apps", { mtls: { mode: "STRICT" } })]);
        assert.deepEqual(v, [
            "no mesh-wide PeerAuthentication in istio-system (no selector, spec.mtls.mode STRICT); add one so every workload requires mTLS",
        ]);
    });
    it("fails a PERMISSIVE mesh-wide policy and namespace overrides", async () => {
        const v = await stackViolations(istioMtlsStrict, [meshWide("PERMISSIVE")]);
        assert.equal(v.length, 2);
        assert.match(
            v[0],
            /^PeerAuthentication istio-system\/default is the mesh-wide policy but spec\.mtls\.mode is "PERMISSIVE"; set spec\.mtls\.mode: STRICT/,
        );
        const w = await stackViolations(istioMtlsStrict, [
            meshWide(),
            peerAuthentication("legacy", "orders-data", { mtls: { mode: "DISABLE" } }),
        ]);
        assert.deepEqual(w, [
            "PeerAuthentication orders-data/legacy: spec.mtls.mode is DISABLE; set it to STRICT (or UNSET to inherit the mesh-wide STRICT)",
        ]);
    });
    it("fails permissive ports unless allowed by config", async () => {
        const pa = peerAuthentication("pg", "orders-data", {
            selector: { matchLabels: { app: "postgres" } },
            portLevelMtls: { "9187": { mode: "PERMISSIVE" } },
        });
        assert.equal((await stackViolations(istioMtlsStrict, [meshWide(), pa])).length, 1);
        assert.deepEqual(await stackViolations(istioMtlsStrict, [meshWide(), pa], { allowedPermissivePorts: [9187] }), []);
        assert.deepEqual(await stackViolations(istioMtlsStrict, [meshWide(), pa], { allowedPermissivePorts: ["orders-data/9187"] }), []);
        const v = await stackViolations(istioMtlsStrict, [meshWide(), pa], { allowedPermissivePorts: ["orders-apps/9187"] });
        assert.deepEqual(v, [
            'PeerAuthentication orders-data/pg: spec.portLevelMtls[9187].mode is PERMISSIVE; set it to STRICT, or list "orders-data/9187" in allowedPermissivePorts if clients outside the mesh must reach it',
        ]);
    });
    it("does not take a selector-scoped policy for the mesh-wide one", async () => {
        const scoped = peerAuthentication("default", "istio-system", {
            selector: { matchLabels: { app: "istiod" } },
            mtls: { mode: "STRICT" },
        });
        assert.equal((await stackViolations(istioMtlsStrict, [scoped])).length, 1);
    });
});
