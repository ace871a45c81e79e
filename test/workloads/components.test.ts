// The app-facing components (namespaces, database, apps, NetworkPolicies, the mesh-off edge) in the
// real wiring, per shipped stack, under Pulumi mocks.
import { strict as assert } from "node:assert";
import { clusterNetwork } from "../../components/cluster/network";
import type { StackConfig } from "../../components/config";
import { APP_NAMESPACE, DATA_NAMESPACE } from "../../components/naming";
import { networkPolicyOptions, networkPolicySpecs, trafficGraph } from "../../components/network";
import { CHARTS } from "../../components/versions";
import { CapturedResource, ProgramRun, runStack, STACK_VARIANTS, stackConfig, validateKubernetesObjects } from "../harness";
import { outputsFor } from "../harness/mockRegistry";
import { catalog, mockPassword, POD_KINDS, podTemplate, workloadsOf } from "./fixtures";
import { allContainers, allowedFlows, containerProblems } from "../harness/rules";

const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const SECRET = "kubernetes:core/v1:Secret";
const NETPOL = "kubernetes:networking.k8s.io/v1:NetworkPolicy";

interface WorkloadsRun {
    /** The whole program run. */
    all: ProgramRun<Record<string, unknown>>;
    /** Its part below the workload components. */
    run: ProgramRun<Record<string, unknown>>;
    config: StackConfig;
}

async function deployWorkloads(stack: string, overrides: Record<string, unknown> = {}): Promise<WorkloadsRun> {
    const all = await runStack(stack, overrides);
    return { all, run: workloadsOf(all), config: stackConfig(stack, overrides) };
}

/** What the mocks answer for a captured resource (the provider-computed outputs). */
const mocked = (r: CapturedResource) => outputsFor(r.type, r.name, r.inputs);

const variants: Array<[string, string, Record<string, unknown>]> = [
    ...STACK_VARIANTS,
    ["prod with the mesh off", "prod", { "mesh.enabled": false, "edge.installController": true }],
];

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
/** wireInputs with every secret envelope replaced by a marker. */
function withoutSecrets(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutSecrets);
    if (value && typeof value === "object") {
        const obj = value as Record<string, unknown>;
        if (Object.values(obj).includes(SECRET_SIG)) return "[secret]";
        return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, withoutSecrets(v)]));
    }
    return value;
}

describe("workload components under mocks", function () {
    this.timeout(120_000);
    const runs = new Map<string, WorkloadsRun>();
    before(async () => {
        for (const [label, stack, overrides] of variants) runs.set(label, await deployWorkloads(stack, overrides));
    });

    for (const [label] of variants) {
        describe(label, () => {
            it("registers only schema-valid Kubernetes objects", async () => {
                const { run } = runs.get(label)!;
                assert.deepEqual(await validateKubernetesObjects(run.resources), []);
            });

            it("gives every object a parent component and the cluster's provider", () => {
                const { run } = runs.get(label)!;
                for (const r of run.resources.filter((x) => x.type.startsWith("kubernetes:") || x.type.startsWith("random:"))) {
                    assert.match(r.parent ?? "", /orders-platform:workloads:/, `${r.urn} has no workloads parent`);
                    if (r.type.startsWith("kubernetes:"))
                        assert.match(
                            r.provider ?? "",
                            /orders-platform:cluster:Cluster\$pulumi:providers:kubernetes::cluster-k8s::/,
                            `${r.urn} provider`,
                        );
                }
                const components = run.resources.filter((x) => x.type.startsWith("orders-platform:workloads:")).map((x) => x.type);
                assert.ok(
                    components.includes("orders-platform:workloads:Postgres") &&
                        components.includes("orders-platform:workloads:NetworkPolicies"),
                );
            });

            it("hardens every container of every Deployment, StatefulSet, Job and CronJob", () => {
                const { run } = runs.get(label)!;
                const workloads = run.resources.filter((r) => POD_KINDS.includes(r.type));
                assert.ok(workloads.length >= 5, `only ${workloads.length} pod-bearing objects`);
                const problems: string[] = [];
                for (const w of workloads) {
                    const pod = podTemplate(w).spec;
                    const longRunning = w.inputs.kind === "Deployment" || w.inputs.kind === "StatefulSet";
                    for (const { container } of allContainers(pod)) {
                        problems.push(
                            ...containerProblems(pod, container, longRunning).map(
                                (p) => `${w.inputs.kind} ${w.inputs.metadata.name}: ${p}`,
                            ),
                        );
                    }
                    if (pod.automountServiceAccountToken !== false)
                        problems.push(`${w.inputs.metadata.name}: mounts a service account token`);
                }
                assert.deepEqual(problems, []);
            });

            it("probes the apps' own health paths and references images by digest", () => {
                const { run } = runs.get(label)!;
                for (const d of run.byType(DEPLOYMENT)) {
                    const facts = catalog.get(d.inputs.metadata.labels.app)!;
                    const c = d.inputs.spec.template.spec.containers[0];
                    assert.match(c.image, /@sha256:[a-f0-9]{64}$/);
                    assert.deepEqual(c.ports, [{ name: "http", containerPort: facts.port, protocol: "TCP" }]);
                    assert.deepEqual(
                        [c.startupProbe.httpGet.path, c.readinessProbe.httpGet.path, c.livenessProbe.httpGet.path],
                        [facts.health.startup, facts.health.readiness, facts.health.liveness],
                    );
                    assert.equal(d.inputs.spec.template.spec.terminationGracePeriodSeconds, 5 + facts.shutdownGraceSeconds + 10);
                    assert.deepEqual(d.inputs.spec.template.spec.containers[0].lifecycle, { preStop: { sleep: { seconds: 5 } } });
                    assert.equal(d.inputs.spec.strategy.rollingUpdate.maxUnavailable, 0);
                }
            });

            it("runs as many stable and canary pods as the config says", () => {
                const { run, config } = runs.get(label)!;
                for (const [name, app] of Object.entries(config.apps)) {
                    const stable = run.get(DEPLOYMENT, name).inputs;
                    assert.equal(stable.spec.template.metadata.labels.version, app.version);
                    assert.equal(stable.spec.template.metadata.labels.track, "stable");
                    const hpa = run.find((r) => r.type === HPA && r.inputs.metadata.name === name)[0];
                    const canary = run.find((r) => r.type === DEPLOYMENT && r.name === `${name}-canary`)[0];
                    assert.equal(!!canary, !!app.canary, `${name} canary Deployment`);
                    if (config.mesh.enabled || !app.canary) {
                        if (app.autoscaling) {
                            assert.equal(stable.spec.replicas, undefined, "the HPA owns the replicas");
                            assert.deepEqual(
                                [hpa.inputs.spec.minReplicas, hpa.inputs.spec.maxReplicas],
                                [app.autoscaling.min, app.autoscaling.max],
                            );
                            assert.equal(hpa.inputs.spec.metrics[0].resource.target.averageUtilization, app.autoscaling.cpuPercent);
                            assert.equal(hpa.inputs.spec.scaleTargetRef.name, name);
                        } else {
                            assert.equal(stable.spec.replicas, app.replicas);
                            assert.equal(hpa, undefined);
                        }
                        if (app.canary) assert.equal(canary.inputs.spec.replicas, app.canary.replicas);
                    }
                    if (app.canary) {
                        assert.equal(canary.inputs.spec.template.metadata.labels.version, app.canary.version);
                        assert.equal(canary.inputs.spec.template.metadata.labels.track, "canary");
                    }
                    const pdb = run.find((r) => r.type === PDB && r.inputs.metadata.name === name)[0];
                    assert.equal(!!pdb, (app.autoscaling?.min ?? app.replicas) > 1, `${name} PDB`);
                }
            });

            it("keeps every database password inside Pulumi secrets", () => {
                const { run, all } = runs.get(label)!;
                const passwords = run
                    .byType("random:index/randomPassword:RandomPassword")
                    .map((r) => mockPassword(r.name, r.inputs.length));
                assert.equal(passwords.length, 4, "superuser, backup, one per app");
                const holders: string[] = [];
                // Every resource of the program, not only the workloads'.
                for (const r of all.resources) {
                    const plain = JSON.stringify(r.inputs);
                    const wire = JSON.stringify(withoutSecrets(r.wireInputs));
                    for (const pw of passwords) {
                        assert.ok(!wire.includes(pw), `${r.urn} carries a password outside a secret`);
                        if (plain.includes(pw)) holders.push(`${r.type}:${r.inputs.metadata?.namespace}/${r.inputs.metadata?.name}`);
                    }
                }
                assert.deepEqual([...new Set(holders)].sort(), [
                    `${SECRET}:orders-apps/orders-database`,
                    `${SECRET}:orders-apps/users-database`,
                    `${SECRET}:orders-data/postgres-roles`,
                    `${SECRET}:orders-data/postgres-superuser`,
                ]);
                const url = run.get(SECRET, "users-database").inputs.stringData.DATABASE_URL;
                assert.equal(url, `postgres://users:${mockPassword("postgres-users")}@postgres.orders-data.svc.cluster.local:5432/users`);
                const postgres = run.get("orders-platform:workloads:Postgres", "postgres").componentOutputs!;
                assert.equal(JSON.stringify(postgres).includes("mock-pw"), false);
                assert.equal(JSON.stringify(all.outputs).includes("mock-pw"), false);
                assert.deepEqual(postgres.appSecrets.orders, { name: "orders-database", key: "DATABASE_URL" });
                for (const d of run.byType(DEPLOYMENT)) {
                    const env = d.inputs.spec.template.spec.containers[0].env;
                    assert.deepEqual(env.find((e: any) => e.name === "DATABASE_URL").valueFrom.secretKeyRef, {
                        name: `${d.inputs.metadata.labels.app}-database`,
                        key: "DATABASE_URL",
                    });
                }
            });

            it("allows exactly the declared graph with its NetworkPolicies", () => {
                const { run, config } = runs.get(label)!;
                // The NetworkPolicies component covers every namespace the program owns.
                const byName = (x: { namespace: string; name: string }, y: { namespace: string; name: string }) =>
                    `${x.namespace}/${x.name}`.localeCompare(`${y.namespace}/${y.name}`);
                const captured = run
                    .byType(NETPOL)
                    .map((r) => ({ namespace: r.inputs.metadata.namespace, name: r.inputs.metadata.name, spec: r.inputs.spec }))
                    .sort(byName);
                const graph = trafficGraph(catalog, {
                    metricsScraping: config.observability.prometheus.enabled,
                    backups: config.database.backup.enabled,
                });
                const backupTarget = config.cluster.provider === "eks" ? "s3" : config.cluster.provider === "gke" ? "gcs" : "volume";
                // Loki's bucket is in the same object storage as the backups.
                const options = networkPolicyOptions(config, clusterNetwork(config.cluster), backupTarget, backupTarget);
                const pure = networkPolicySpecs(graph, options);
                assert.deepEqual(captured, pure.map((p) => ({ namespace: p.namespace, name: p.name, spec: p.spec })).sort(byName));
                // What the edge may reach inside the app and data namespaces: exactly the apps.
                const flows = allowedFlows(
                    captured.filter((p) => [APP_NAMESPACE, DATA_NAMESPACE].includes(p.namespace)),
                    catalog,
                    options,
                );
                const edgeFlows = [...flows.ingress].filter((f) => f.startsWith("edge->")).sort();
                assert.deepEqual(edgeFlows, [...catalog.values()].map((a) => `edge->${a.name}:TCP/${a.port}`).sort());
                const peerNs = run.byType(NETPOL).find((r) => r.inputs.metadata.name.startsWith("ingress-users-from-edge"))!.inputs.spec
                    .ingress[0].from[0].namespaceSelector.matchLabels["kubernetes.io/metadata.name"];
                assert.equal(peerNs, config.mesh.enabled ? "istio-ingress" : "ingress-traefik");
            });
        });
    }

    it("dev: backups to a PVC with the dev retention, nothing protected, canary-free", () => {
        const { run } = runs.get("dev")!;
        const cron = run.get("kubernetes:batch/v1:CronJob", "postgres-backup").inputs;
        assert.equal(cron.spec.schedule, "0 */6 * * *");
        const dump = cron.spec.jobTemplate.spec.template.spec.containers[0];
        assert.deepEqual(
            dump.env.find((e: any) => e.name === "RETENTION_DAYS"),
            { name: "RETENTION_DAYS", value: "3" },
        );
        const pvc = run.get("kubernetes:core/v1:PersistentVolumeClaim", "postgres-backups").inputs;
        assert.equal(pvc.spec.resources.requests.storage, "1Gi");
        assert.equal(pvc.spec.storageClassName, "standard");
        assert.deepEqual(
            run.resources.filter((r) => r.protect).map((r) => r.urn),
            [],
        );
        const sts = run.get("kubernetes:apps/v1:StatefulSet", "postgres").inputs;
        assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "1Gi");
        // Single-replica apps have no PDB; PostgreSQL has one that lets drains proceed one pod at a time.
        assert.deepEqual(
            run.byType(PDB).map((p) => [p.name, p.inputs.spec.maxUnavailable]),
            [["postgres", 1]],
        );
    });

    it("prod: protects and retains the database, its volumes and the superuser password", () => {
        const { run } = runs.get("prod")!;
        const kept = run.resources
            .filter((r) => r.protect && r.retainOnDelete)
            .map((r) => `${r.type}::${r.name}`)
            .sort();
        assert.deepEqual(kept, [
            "kubernetes:apps/v1:StatefulSet::postgres",
            "kubernetes:core/v1:Namespace::orders-data",
            "random:index/randomPassword:RandomPassword::postgres-superuser",
        ]);
        const sts = run.get("kubernetes:apps/v1:StatefulSet", "postgres").inputs;
        assert.deepEqual(sts.spec.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
        assert.equal(sts.spec.volumeClaimTemplates[0].spec.resources.requests.storage, "100Gi");
        assert.equal(sts.spec.volumeClaimTemplates[0].spec.storageClassName, "gp3");
    });

    it("prod (EKS): uploads backups to S3 as the IRSA-annotated postgres-backup ServiceAccount", () => {
        const { run, all } = runs.get("prod")!;
        const role = mocked(all.get("aws:iam/role:Role", "cluster-backup-role"));
        const bucket = mocked(all.get("aws:s3/bucket:Bucket", "cluster-backups"));
        const sa = run.get("kubernetes:core/v1:ServiceAccount", "postgres-backup").inputs;
        assert.deepEqual(sa.metadata.annotations, { "eks.amazonaws.com/role-arn": role.arn });
        assert.equal(sa.metadata.namespace, "orders-data");
        const pod = run.get("kubernetes:batch/v1:CronJob", "postgres-backup").inputs.spec.jobTemplate.spec.template.spec;
        assert.equal(pod.serviceAccountName, "postgres-backup");
        assert.deepEqual(
            pod.containers[0].env.find((e: any) => e.name === "BACKUP_URL"),
            { name: "BACKUP_URL", value: `s3://${bucket.bucket}/postgres` },
        );
        assert.deepEqual(
            pod.containers[0].env.find((e: any) => e.name === "AWS_REGION"),
            { name: "AWS_REGION", value: "eu-west-1" },
        );
        assert.equal(run.byType("kubernetes:core/v1:PersistentVolumeClaim").length, 0, "the scratch space is an ephemeral volume per run");
    });

    it("GKE: uploads backups to GCS as the Workload Identity ServiceAccount", () => {
        const { run, all } = runs.get("staging on GKE")!;
        const account = mocked(all.get("gcp:serviceaccount/account:Account", "cluster-backup-sa"));
        const bucket = all.get("gcp:storage/bucket:Bucket", "cluster-backups").inputs.name;
        const sa = run.get("kubernetes:core/v1:ServiceAccount", "postgres-backup").inputs;
        assert.deepEqual(sa.metadata.annotations, { "iam.gke.io/gcp-service-account": account.email });
        const pod = run.get("kubernetes:batch/v1:CronJob", "postgres-backup").inputs.spec.jobTemplate.spec.template.spec;
        assert.deepEqual(
            pod.containers[0].env.find((e: any) => e.name === "BACKUP_URL"),
            { name: "BACKUP_URL", value: `gs://${bucket}/postgres` },
        );
    });

    it("mesh on: namespaces are injected and enforce restricted, the Jobs run native sidecars, no mTLS exception; mesh off: no Istio objects", () => {
        const on = runs.get("prod")!.run;
        for (const ns of on.byType("kubernetes:core/v1:Namespace")) {
            assert.equal(ns.inputs.metadata.labels["istio-injection"], "enabled");
            assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted", ns.name);
        }
        assert.deepEqual(on.byType("kubernetes:security.istio.io/v1:PeerAuthentication"), [], "no port-level PERMISSIVE for Postgres");
        const job = on.byType("kubernetes:batch/v1:Job")[0].inputs;
        const cron = on.get("kubernetes:batch/v1:CronJob", "postgres-backup").inputs;
        for (const meta of [job.spec.template.metadata, cron.spec.jobTemplate.spec.template.metadata]) {
            assert.equal(meta.annotations["sidecar.istio.io/inject"], undefined, "the Job pods are injected");
            assert.equal(meta.annotations["sidecar.istio.io/nativeSidecar"], "true");
        }
        assert.equal(job.spec.template.spec.serviceAccountName, "postgres-bootstrap");
        on.get("kubernetes:core/v1:ServiceAccount", "postgres-bootstrap");
        const off = runs.get("dev with the mesh off")!.all;
        assert.deepEqual(
            off.find((r) => r.type.includes("istio.io")),
            [],
        );
        for (const ns of off.byType("kubernetes:core/v1:Namespace").filter((n) => n.inputs.metadata.name.startsWith("orders-"))) {
            assert.equal(ns.inputs.metadata.labels["istio-injection"], undefined);
            assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        }
    });

    it("mesh off: an Ingress with the configured class and host, Traefik on kind, and a warning about the canary split", () => {
        const dev = runs.get("dev with the mesh off")!;
        const ingress = dev.run.get("kubernetes:networking.k8s.io/v1:Ingress", "orders-platform").inputs;
        assert.equal(ingress.spec.ingressClassName, "traefik");
        assert.equal(ingress.spec.rules[0].host, "localhost");
        assert.equal(ingress.spec.tls, undefined);
        assert.equal(dev.all.outputs.edgeUrl, "http://localhost:8080");
        const chart = dev.run.get("kubernetes:helm.sh/v4:Chart", "traefik").inputs;
        assert.equal(chart.chart, "traefik");
        assert.equal(chart.version, CHARTS.traefik.version);
        assert.equal(chart.repositoryOpts.repo, "https://traefik.github.io/charts");
        assert.equal(chart.namespace, "ingress-traefik");
        assert.equal(chart.values.service.spec.type, "NodePort");
        assert.deepEqual(dev.run.warnings, [], "no canary in dev, nothing to approximate");

        const prod = runs.get("prod with the mesh off")!;
        const tls = prod.run.get("kubernetes:networking.k8s.io/v1:Ingress", "orders-platform").inputs.spec.tls;
        assert.deepEqual(tls, [{ hosts: ["orders.example.com"], secretName: "orders-edge-tls" }]);
        assert.equal(prod.all.outputs.edgeUrl, "https://orders.example.com");
        // Off the kind cluster the controller is fronted by a cloud load balancer.
        assert.equal(prod.run.get("kubernetes:helm.sh/v4:Chart", "traefik").inputs.values.service.spec.type, "LoadBalancer");
        assert.equal(prod.run.warnings.length, 1);
        assert.match(prod.run.warnings[0], /users: .*canary weight 10% is only approximated .*stable 2 : canary 1/);
    });

    describe("canary weights 0/10/100", () => {
        const deployments = (r: CapturedResource[]) =>
            Object.fromEntries(r.filter((x) => x.type === DEPLOYMENT).map((x) => [x.name, x.inputs]));

        it("mesh on: changing only the weight changes no Deployment, HPA or PDB", async () => {
            const results: Array<WorkloadsRun["run"]> = [];
            for (const weight of [0, 10, 100]) results.push((await deployWorkloads("prod", { "apps.users.canary.weight": weight })).run);
            const workloadObjects = (run: WorkloadsRun["run"]) =>
                run.resources.filter((r) => [DEPLOYMENT, HPA, PDB].includes(r.type)).map((r) => ({ name: r.name, inputs: r.inputs }));
            assert.deepEqual(workloadObjects(results[0]), workloadObjects(results[1]));
            assert.deepEqual(workloadObjects(results[1]), workloadObjects(results[2]));
            assert.equal(deployments(results[0].resources)["users-canary"].spec.replicas, 1);
            for (const run of results) assert.deepEqual(run.warnings, []);
        });

        it("mesh off: the replica ratio follows the weight (0 -> no canary pods, 100 -> no stable pods)", async () => {
            const counts: Record<number, [unknown, unknown, unknown]> = {};
            for (const weight of [0, 10, 100]) {
                const { run } = await deployWorkloads("prod", {
                    "mesh.enabled": false,
                    "edge.installController": true,
                    "apps.users.canary.weight": weight,
                });
                const d = deployments(run.resources);
                const hpa = run.find((r) => r.type === HPA && r.name === "users")[0];
                counts[weight] = [
                    d.users.spec.replicas ?? `hpa ${hpa.inputs.spec.minReplicas}..${hpa.inputs.spec.maxReplicas}`,
                    d["users-canary"].spec.replicas,
                    run.warnings.length,
                ];
            }
            assert.deepEqual(counts, {
                0: ["hpa 3..10", 0, 1],
                10: ["hpa 2..9", 1, 1],
                100: [0, 3, 1],
            });
        });
    });
});
