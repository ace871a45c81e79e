// PostgreSQL availability and recovery as the program renders it: the disruption budget, WAL
// archiving in prod, the metrics exporter, and the maintenance modes a restore uses to stop writes.
import { strict as assert } from "node:assert";
import { ConfigError } from "../../components/config";
import type { CapturedResource, ProgramRun } from "../harness";
import { runStack, validateKubernetesObjects } from "../harness";
import { shippedProdRun } from "../reliabilityRuns";
import { stackConfig } from "../harness";

const STS = "kubernetes:apps/v1:StatefulSet";
const DEPLOYMENT = "kubernetes:apps/v1:Deployment";
const HPA = "kubernetes:autoscaling/v2:HorizontalPodAutoscaler";
const PDB = "kubernetes:policy/v1:PodDisruptionBudget";
const CRON = "kubernetes:batch/v1:CronJob";

const env = (c: any, name: string) => c.env.find((e: any) => e.name === name)?.value;

describe("postgres: availability and point-in-time recovery (prod)", () => {
    let prod: ProgramRun<Record<string, unknown>>;
    before(async () => {
        prod = await shippedProdRun();
    });

    it("has a PodDisruptionBudget that lets drains proceed one pod at a time, and is not moved to pack nodes", () => {
        const pdb = prod.get(PDB, "postgres").inputs;
        assert.equal(pdb.metadata.namespace, "orders-data");
        assert.equal(pdb.spec.maxUnavailable, 1);
        assert.deepEqual(pdb.spec.selector.matchLabels, { "app.kubernetes.io/name": "postgres" });
        const annotations = prod.get(STS, "postgres").inputs.spec.template.metadata.annotations;
        assert.equal(annotations["cluster-autoscaler.kubernetes.io/safe-to-evict"], "false");
    });

    it("archives WAL to the bucket: archive_command hands segments to a wal-upload sidecar with its own identity", () => {
        const sts = prod.get(STS, "postgres").inputs.spec.template;
        const [postgres, metrics, upload] = sts.spec.containers;
        const args = postgres.args.join(" ");
        assert.match(
            args,
            /-c archive_mode=on -c archive_command=\/scripts\/wal-archive\.sh %p %f -c archive_timeout=60s -c hba_file=\/scripts\/pg_hba\.conf/,
        );
        assert.equal(upload.name, "wal-upload");
        assert.match(upload.image, /^public\.ecr\.aws\/aws-cli\/aws-cli:.*@sha256:/);
        assert.deepEqual(upload.command, ["/scripts/wal-upload.sh"]);
        assert.match(env(upload, "WAL_URL"), /^s3:\/\/[^/]+\/postgres-wal$/);
        assert.equal(env(postgres, "WAL_SPOOL"), env(upload, "WAL_SPOOL"));
        // The pod's ServiceAccount carries the put-only WAL role, not the backup role.
        const sa = prod.get("kubernetes:core/v1:ServiceAccount", "postgres").inputs;
        assert.match(sa.metadata.annotations["eks.amazonaws.com/role-arn"], /wal-archive-role$/);
        // Base backups for PITR come from the backup job, which also prunes WAL with the backups.
        const cron = prod.get(CRON, "postgres-backup").inputs.spec.jobTemplate.spec.template.spec;
        assert.equal(env(cron.initContainers[0], "BASE_BACKUP"), "true");
        assert.equal(env(cron.containers[0], "WAL_URL"), env(upload, "WAL_URL"));
        const hba: string = prod.get("kubernetes:core/v1:ConfigMap", "postgres-scripts").inputs.data["pg_hba.conf"];
        assert.match(hba, /^host\s+replication\s+backup\s+all\s+scram-sha-256$/m);
        assert.doesNotMatch(hba, /^host\s.*\strust$/m, "over the network always a password");
        assert.equal(metrics.name, "metrics");
        // Its egress: the object store over HTTPS only, nothing inside the cluster.
        const egress = prod.get("kubernetes:networking.k8s.io/v1:NetworkPolicy", "orders-data-egress-postgres-to-object-storage-443").inputs
            .spec;
        assert.deepEqual(egress.podSelector.matchLabels, { "app.kubernetes.io/name": "postgres" });
        assert.deepEqual(egress.egress[0].ports, [{ port: 443, protocol: "TCP" }]);
        assert.deepEqual(egress.egress[0].to[0].ipBlock.except, ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"]);
    });

    it("runs the metrics exporter over the local socket, scraped through the sidecar's merged metrics", () => {
        const sts = prod.get(STS, "postgres").inputs.spec.template;
        const metrics = sts.spec.containers.find((c: any) => c.name === "metrics");
        assert.match(metrics.image, /^quay\.io\/prometheuscommunity\/postgres-exporter:v0\.20\.1@sha256:[0-9a-f]{64}$/);
        assert.equal(env(metrics, "DATA_SOURCE_NAME"), "host=/var/run/postgresql user=monitor dbname=postgres sslmode=disable");
        assert.deepEqual(
            metrics.volumeMounts.find((m: any) => m.mountPath === "/var/run/postgresql"),
            { name: "run", mountPath: "/var/run/postgresql", readOnly: true },
        );
        assert.equal(sts.metadata.annotations["prometheus.io/port"], "9187");
    });

    it("stages each backup on a volume sized from the database, not the node's disk", () => {
        const pod = prod.get(CRON, "postgres-backup").inputs.spec.jobTemplate.spec.template.spec;
        const staging = pod.volumes.find((v: any) => v.name === "backups");
        assert.equal(
            staging.ephemeral.volumeClaimTemplate.spec.resources.requests.storage,
            "200Gi",
            "100Gi of data: dumps plus a base backup",
        );
        assert.equal(staging.ephemeral.volumeClaimTemplate.spec.storageClassName, "gp3");
        assert.equal(prod.get(CRON, "postgres-backup").inputs.spec.jobTemplate.spec.activeDeadlineSeconds, 9000);
        assert.equal(env(pod.initContainers[0], "DATABASES"), "orders users", "callers before callees");
        assert.equal(env(pod.containers[0], "KEEP_LAST"), "7");
    });

    it("refuses WAL archiving without a bucket", () => {
        assert.throws(
            () => stackConfig("dev", { "database.walArchiving.enabled": true }),
            (err: unknown) =>
                err instanceof ConfigError &&
                err.problems.some((p) => /^orders-platform:database\.walArchiving\.enabled = true: needs a backup bucket/.test(p)),
        );
    });
});

describe("postgres: maintenance modes stop the writers for a restore, and `pulumi up` without them restarts them", () => {
    const appDeployments = (run: ProgramRun<unknown>) =>
        run.byType(DEPLOYMENT).filter((d) => d.inputs.metadata.namespace === "orders-apps");
    const replicas = (run: ProgramRun<unknown>) =>
        Object.fromEntries(appDeployments(run).map((d: CapturedResource) => [d.name, d.inputs.spec.replicas ?? "HPA"]));

    it("apps-stopped: every app Deployment at 0 pods, no HPA or PDB for them, no backup runs; PostgreSQL stays up", async () => {
        const normal = await shippedProdRun();
        assert.deepEqual(replicas(normal), { users: "HPA", "users-canary": 1, orders: "HPA" });
        assert.deepEqual(
            normal
                .byType(HPA)
                .map((h) => h.name)
                .sort(),
            ["orders", "users"],
        );
        assert.equal(normal.get(CRON, "postgres-backup").inputs.spec.suspend, false);

        const stopped = await runStack("prod", { "database.maintenance": "apps-stopped" });
        assert.deepEqual(replicas(stopped), { users: 0, "users-canary": 0, orders: 0 });
        assert.deepEqual(stopped.byType(HPA), []);
        assert.deepEqual(
            stopped.byType(PDB).map((p) => p.name),
            ["postgres"],
        );
        assert.equal(stopped.get(CRON, "postgres-backup").inputs.spec.suspend, true);
        assert.equal(stopped.get(STS, "postgres").inputs.spec.replicas, 1);
        assert.deepEqual(await validateKubernetesObjects(stopped.resources), []);
        // Same objects otherwise: leaving maintenance is the same config change backwards.
        const kept = (run: ProgramRun<unknown>) =>
            run.resources
                .map((r) => r.urn)
                .filter((u) => !/HorizontalPodAutoscaler|PodDisruptionBudget::(users|orders)$/.test(u))
                .sort();
        assert.deepEqual(kept(stopped), kept(normal));
    });

    it("database-stopped: PostgreSQL at 0 replicas too, its volume kept", async () => {
        const run = await runStack("prod", { "database.maintenance": "database-stopped" });
        const sts = run.get(STS, "postgres");
        assert.equal(sts.inputs.spec.replicas, 0);
        assert.ok(sts.protect && sts.retainOnDelete);
        assert.deepEqual(Object.values(replicas(run)), [0, 0, 0]);
    });
});
