// Centralised logs: Loki's and Alloy's chart values (pure), the Logs component under mocks, and
// what the full program does with them per stack.
import { strict as assert } from "node:assert";
import * as k8s from "@pulumi/kubernetes";
import { stackConfigSchema } from "../../components/config";
import { retentionHours } from "../../components/config/schema";
import { LOGGING_NAMESPACE } from "../../components/naming";
import { Logs } from "../../components/observability";
import {
    ALLOY_HTTP_PORT,
    alloyConfig,
    alloyValues,
    chartImage,
    LOKI_PUSH_URL,
    lokiValues,
    objectStoreName,
    type LokiStore,
} from "../../components/observability/logsSpec";
import { CHARTS, IMAGES, imageReference } from "../../components/versions";
import { clusterNetwork } from "../../components/cluster/network";
import { managedNamespaces, networkPolicyOptions, peerKey, platformEdges } from "../../components/network/networkPolicySpec";
import { type ProgramRun, rawStackConfig, runProgram, runStack, stackConfig, validateKubernetesObjects } from "../harness";

const logs = stackConfig("prod").observability.logs;
const LOKI_IMAGE = imageReference(IMAGES.loki);
const ALLOY_IMAGE = imageReference(IMAGES.alloy);
const STORES: Record<string, LokiStore> = {
    volume: { kind: "volume" },
    s3: {
        kind: "s3",
        bucket: "orders-prod-logs-x",
        region: "eu-west-1",
        serviceAccountAnnotations: { "eks.amazonaws.com/role-arn": "arn:r" },
    },
    gcs: { kind: "gcs", bucket: "p-orders-prod-logs", serviceAccountAnnotations: { "iam.gke.io/gcp-service-account": "loki@p.iam" } },
};
const lokiOf = (store: LokiStore) => lokiValues(logs, store, LOKI_IMAGE, "gp3") as Record<string, any>;

describe("logs: config", () => {
    const parseLogs = (value: Record<string, unknown>) => {
        const raw = { ...rawStackConfig("prod"), observability: { logs: value } };
        return stackConfigSchema.safeParse(raw);
    };

    it("per-environment retention and volume; every stack ships logs", () => {
        assert.deepEqual(
            ["dev", "staging", "prod"].map((s) => {
                const l = stackConfig(s).observability.logs;
                return [l.enabled, l.retention, l.storageSize];
            }),
            [
                [true, "3d", "2Gi"],
                [true, "7d", "10Gi"],
                [true, "30d", "20Gi"],
            ],
        );
    });

    it("retention in whole days (Loki's index period), written in any Prometheus unit", () => {
        assert.equal(retentionHours("2w"), 336);
        assert.equal(retentionHours("72h"), 72);
        assert.equal(parseLogs({ retention: "36h" }).success, false);
        assert.equal(parseLogs({ retention: "12h" }).success, false);
        assert.equal(parseLogs({ retention: "forever" }).success, false);
        assert.equal(parseLogs({ retention: "48h" }).success, true);
        assert.equal(parseLogs({ retension: "7d" }).success, false, "typo");
    });
});

describe("logs: Loki values", () => {
    it("one monolithic Loki and nothing else from the chart", () => {
        const v = lokiOf(STORES.volume);
        assert.equal(v.deploymentMode, "Monolithic");
        assert.equal(v.singleBinary.replicas, 1);
        for (const target of ["write", "read", "backend"]) assert.equal(v[target].replicas, 0, target);
        for (const off of ["gateway", "chunksCache", "resultsCache", "lokiCanary", "test", "ruler"])
            assert.equal(v[off].enabled, false, off);
        assert.equal(v.singleBinary.sidecar, false);
        assert.equal(v.sidecar.rules.enabled, false);
        assert.equal(v.loki.auth_enabled, false);
        assert.equal(v.loki.commonConfig.replication_factor, 1);
    });

    it("keeps chunks on its volume on kind/existing, in the bucket through IRSA or Workload Identity on EKS/GKE", () => {
        const fs = lokiOf(STORES.volume);
        assert.equal(fs.loki.storage.type, "filesystem");
        assert.equal(fs.loki.schemaConfig.configs[0].object_store, "filesystem");
        assert.deepEqual(fs.serviceAccount.annotations, {});
        const s3 = lokiOf(STORES.s3);
        assert.deepEqual(s3.loki.storage, {
            type: "s3",
            bucketNames: { chunks: "orders-prod-logs-x", ruler: "orders-prod-logs-x", admin: "orders-prod-logs-x" },
            s3: { region: "eu-west-1" },
        });
        assert.equal(s3.loki.storage.s3.accessKeyId, undefined, "no static keys: the web identity of the ServiceAccount");
        assert.deepEqual(s3.serviceAccount.annotations, { "eks.amazonaws.com/role-arn": "arn:r" });
        const gcs = lokiOf(STORES.gcs);
        assert.equal(gcs.loki.storage.type, "gcs");
        assert.deepEqual(gcs.serviceAccount.annotations, { "iam.gke.io/gcp-service-account": "loki@p.iam" });
        for (const [kind, store] of Object.entries(STORES)) {
            const v = lokiOf(store);
            assert.equal(v.loki.compactor.delete_request_store, objectStoreName(store), kind);
            assert.equal(v.loki.schemaConfig.configs[0].schema, "v13");
            assert.equal(v.loki.schemaConfig.configs[0].store, "tsdb");
            assert.equal(v.singleBinary.persistence.size, logs.storageSize);
            assert.equal(v.singleBinary.persistence.storageClass, "gp3");
        }
    });

    it("retention: the compactor deletes after the configured whole days", () => {
        const v = lokiOf(STORES.s3);
        assert.equal(v.loki.compactor.retention_enabled, true);
        assert.equal(v.loki.limits_config.retention_period, "720h");
    });

    it("runs restricted, without an API token or any role, from the pinned image", () => {
        const v = lokiOf(STORES.volume);
        assert.deepEqual(v.loki.image, {
            registry: "docker.io",
            repository: "grafana/loki",
            tag: `${IMAGES.loki.tag}@${IMAGES.loki.digest}`,
        });
        assert.equal(v.loki.podSecurityContext.runAsNonRoot, true);
        assert.deepEqual(v.loki.containerSecurityContext, {
            allowPrivilegeEscalation: false,
            readOnlyRootFilesystem: true,
            runAsNonRoot: true,
            capabilities: { drop: ["ALL"] },
            seccompProfile: { type: "RuntimeDefault" },
        });
        assert.equal(v.rbac.namespaced, true);
        assert.equal(v.serviceAccount.automountServiceAccountToken, false);
        assert.equal(v.defaults.automountServiceAccountToken, false);
    });

    it("a mirrored image keeps tag and digest", () => {
        assert.deepEqual(chartImage(`registry.internal/mirror/grafana/loki:3.7.6@${IMAGES.loki.digest}`), {
            registry: "registry.internal",
            repository: "mirror/grafana/loki",
            tag: `3.7.6@${IMAGES.loki.digest}`,
        });
        assert.throws(() => chartImage("docker.io/grafana/loki:3.7.6"), /is not <registry>\/<repository>:<tag>@sha256:<digest>/);
    });
});

describe("logs: Alloy values and pipeline", () => {
    const v = alloyValues(logs, ALLOY_IMAGE, alloyConfig({ pushUrl: LOKI_PUSH_URL })) as Record<string, any>;

    it("a DaemonSet with no host path, no host network, restricted, from the pinned image", () => {
        assert.equal(v.controller.type, "daemonset");
        assert.deepEqual(v.alloy.mounts.varlog, false);
        assert.deepEqual(v.alloy.mounts.dockercontainers, false);
        assert.ok(!JSON.stringify(v).includes("hostPath"), "no hostPath volume");
        assert.equal(v.controller.hostNetwork, undefined);
        assert.equal(v.global.podSecurityContext.runAsNonRoot, true);
        assert.equal(v.alloy.securityContext.readOnlyRootFilesystem, true);
        assert.deepEqual(v.alloy.securityContext.capabilities, { drop: ["ALL"] });
        assert.deepEqual(v.alloy.mounts.extra, [{ name: "tmp", mountPath: "/tmp" }], "its positions on an emptyDir");
        assert.deepEqual(v.image, {
            registry: "docker.io",
            repository: "grafana/alloy",
            tag: `${IMAGES.alloy.tag}@${IMAGES.alloy.digest}`,
        });
        assert.equal(v.alloy.livenessProbe.httpGet.port, ALLOY_HTTP_PORT);
        assert.equal(v.configReloader.enabled, false, "no extra image; the chart rolls pods on a config change");
        assert.equal(v.crds.create, false);
    });

    it("may read pods and their logs, nothing else (no Secrets, no nodes)", () => {
        assert.deepEqual(v.rbac.rules, [{ apiGroups: [""], resources: ["pods", "pods/log"], verbs: ["get", "list", "watch"] }]);
        assert.deepEqual(v.rbac.clusterRules, []);
    });

    it("tails the pods of its own node through the API, labels streams, parses the apps' level and pushes to Loki", () => {
        const text = v.alloy.configMap.content as string;
        assert.match(text, /discovery\.kubernetes "pods" \{\n {2}role = "pod"/);
        assert.match(text, /field = "spec\.nodeName=" \+ sys\.env\("K8S_NODE_NAME"\)/);
        assert.match(text, /loki\.source\.kubernetes "pods"/);
        assert.doesNotMatch(text, /loki\.source\.file|local\.file_match|\/var\/log/, "no files from the host");
        for (const label of ["namespace", "pod", "container", "app", "track", "version"]) {
            assert.match(text, new RegExp(`target_label {2}= "${label}"`), label);
        }
        assert.match(text, /selector = "\{namespace=\\"orders-apps\\"\}"/);
        assert.match(text, /url = "http:\/\/loki\.logging\.svc\.cluster\.local:3100\/loki\/api\/v1\/push"/);
        // Balanced braces: a truncated block would fail Alloy at start.
        assert.equal((text.match(/\{/g) ?? []).length, (text.match(/\}/g) ?? []).length);
    });

    it("the app label takes app.kubernetes.io/name, else app (the relabel regex)", () => {
        const regex = new RegExp(`^(?:${/regex {9}= "(.*)"/.exec(v.alloy.configMap.content)![1].replace(/\\\\/g, "\\")})$`);
        assert.equal(regex.exec(";users")?.[1], "users");
        assert.equal(regex.exec("loki;")?.[1], "loki");
        assert.equal(regex.exec("loki;x")?.[1], "loki");
        assert.equal(regex.exec(";"), null);
    });
});

describe("logs: inside the default-deny network model", () => {
    const edgesOf = (stack: string, storage: "volume" | "s3" | "gcs") => {
        const config = stackConfig(stack);
        const options = networkPolicyOptions(config, clusterNetwork(config.cluster), storage, storage);
        assert.ok(managedNamespaces(options).includes(LOGGING_NAMESPACE), "logging has a default deny");
        return platformEdges(options)
            .filter(
                (e) =>
                    [e.from.kind, e.to.kind].some((k) => k === "loki" || k === "alloy") ||
                    (e.from.kind === "namespace" && e.from.namespace === LOGGING_NAMESPACE),
            )
            .map((e) => `${peerKey(e.from)}->${peerKey(e.to)}:${e.ports.map((p) => p.port).join(",")}`)
            .sort();
    };

    it("allows exactly: DNS, Alloy to the API server and to Loki, Grafana and Prometheus to Loki, Prometheus to Alloy", () => {
        assert.deepEqual(edgesOf("dev", "volume"), [
            `all-${LOGGING_NAMESPACE}->dns:53,53`,
            "alloy->apiserver:443,6443",
            "alloy->loki:3100",
            "grafana->loki:3100",
            "prometheus->alloy:12345",
            "prometheus->loki:3100",
        ]);
    });

    it("with a bucket, Loki alone may leave the cluster: HTTPS to object storage (and the GKE metadata server)", () => {
        assert.deepEqual(
            edgesOf("staging", "s3").filter((e) => e.startsWith("loki->")),
            ["loki->object-storage:443"],
        );
        assert.deepEqual(
            edgesOf("staging", "gcs").filter((e) => e.startsWith("loki->")),
            ["loki->gke-metadata-80:80", "loki->gke-metadata-988:988", "loki->object-storage:443"],
        );
    });
});

describe("logs: the component under mocks", () => {
    let run: ProgramRun;
    before(async () => {
        const config = stackConfig("staging");
        run = await runProgram(() => {
            const provider = new k8s.Provider("k8s", {});
            new Logs(
                "logs",
                {
                    environment: "staging",
                    config: config.observability.logs,
                    store: STORES.s3,
                    storageClassName: "gp3",
                    images: config.images,
                    charts: config.charts,
                },
                { provider },
            );
        });
    });

    it("creates the logging namespace at Pod Security restricted, without sidecars", async () => {
        const ns = run.get("kubernetes:core/v1:Namespace", LOGGING_NAMESPACE);
        assert.equal(ns.inputs.metadata.labels["pod-security.kubernetes.io/enforce"], "restricted");
        assert.equal(ns.inputs.metadata.labels["istio-injection"], "disabled");
        assert.deepEqual(await validateKubernetesObjects(run.resources), []);
    });

    it("installs the pinned Loki and Alloy charts into it, Alloy after Loki", () => {
        const loki = run.get("kubernetes:helm.sh/v4:Chart", "loki");
        const alloy = run.get("kubernetes:helm.sh/v4:Chart", "alloy");
        assert.deepEqual(
            [loki.inputs.chart, loki.inputs.version, loki.inputs.repositoryOpts.repo],
            ["loki", CHARTS.loki.version, CHARTS.loki.source],
        );
        assert.deepEqual(
            [alloy.inputs.chart, alloy.inputs.version, alloy.inputs.repositoryOpts.repo],
            ["alloy", CHARTS.alloy.version, CHARTS.alloy.source],
        );
        for (const c of [loki, alloy]) assert.equal(c.inputs.namespace, LOGGING_NAMESPACE);
        assert.ok(alloy.dependsOn.includes(loki.urn));
        assert.equal(loki.inputs.values.loki.storage.bucketNames.chunks, "orders-prod-logs-x");
    });
});

describe("logs: the full program", function () {
    this.timeout(120_000);

    it("EKS: a private bucket for Loki, an IRSA role only logging/loki may assume, the role on Loki's ServiceAccount", async () => {
        const run = await runStack("staging");
        const bucket = run.get("aws:s3/bucket:Bucket", "cluster-logs");
        assert.match(bucket.inputs.bucketPrefix, /^orders-staging-logs-/);
        assert.equal(run.get("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "cluster-logs").inputs.restrictPublicBuckets, true);
        assert.equal(run.find((r) => r.type === "aws:s3/bucketVersioning:BucketVersioning" && r.name === "cluster-logs").length, 0);
        const role = run.get("aws:iam/role:Role", "cluster-loki-role");
        const trust = JSON.parse(role.inputs.assumeRolePolicy).Statement[0].Condition.StringEquals;
        assert.ok(Object.values(trust).includes("system:serviceaccount:logging:loki"), JSON.stringify(trust));
        const policy = JSON.parse(run.get("aws:iam/rolePolicy:RolePolicy", "cluster-loki-s3").inputs.policy);
        assert.match(JSON.stringify(policy), /"arn:aws:s3:::orders-staging-logs-[^"]*\/\*"/);
        const values = run.get("kubernetes:helm.sh/v4:Chart", "loki").inputs.values;
        assert.equal(values.loki.storage.type, "s3");
        assert.equal(values.serviceAccount.annotations["eks.amazonaws.com/role-arn"], "arn:aws:iam::123456789012:role/cluster-loki-role");
    });

    it("GKE: a bucket and a Google service account bound to logging/loki", async () => {
        const run = await runStack("staging", {
            "cluster.provider": "gke",
            "cluster.eks": undefined,
            "cluster.gke": { project: "orders-staging-1234", region: "europe-west1", masterAuthorizedCidrs: ["198.51.100.0/24"] },
        });
        assert.equal(run.get("gcp:storage/bucket:Bucket", "cluster-logs").inputs.name, "orders-staging-1234-orders-staging-logs");
        assert.equal(
            run.get("gcp:serviceaccount/iAMMember:IAMMember", "cluster-loki-workload-identity").inputs.member,
            "serviceAccount:orders-staging-1234.svc.id.goog[logging/loki]",
        );
        assert.equal(run.get("kubernetes:helm.sh/v4:Chart", "loki").inputs.values.loki.storage.type, "gcs");
    });

    it("dev (kind): Loki on its volume; logs off: no bucket, namespace, charts or data source", async () => {
        const dev = await runStack("dev");
        assert.equal(dev.get("kubernetes:helm.sh/v4:Chart", "loki").inputs.values.loki.storage.type, "filesystem");
        const off = await runStack("staging", { "observability.logs.enabled": false });
        assert.equal(off.find((r) => r.name === "cluster-logs").length, 0);
        assert.equal(
            off.find((r) => r.inputs?.metadata?.name === LOGGING_NAMESPACE || r.inputs?.metadata?.namespace === LOGGING_NAMESPACE).length,
            0,
        );
        assert.equal(off.find((r) => r.type === "kubernetes:helm.sh/v4:Chart" && ["loki", "alloy"].includes(r.name)).length, 0);
        const sources = off.get("kubernetes:helm.sh/v4:Chart", "kube-prometheus-stack").inputs.values.grafana.additionalDataSources;
        assert.ok(!sources.some((d: { type: string }) => d.type === "loki"));
    });
});
