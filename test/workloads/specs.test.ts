// Pure spec builders of the workloads, without Pulumi mocks.
import { strict as assert } from "node:assert";
import { trafficGraph } from "../../components/appGraph";
import { AppConfig, appSchema, clusterSchema, databaseSchema, edgeSchema, imagesSchema } from "../../components/config";
import {
    configHash,
    configMapData,
    deploymentSpec,
    pdbSpec,
    planReplicas,
    podSpec,
    serviceSpec,
    splitReplicas,
    topologySpread,
    upstreamUrls,
} from "../../components/workloads/microServiceSpec";
import { namespaceLabels } from "../../components/workloads/namespaces";
import {
    allEdges,
    infrastructureEdges,
    NetPeer,
    networkPolicySpecs,
    NetworkPolicyOptions,
} from "../../components/workloads/networkPolicySpec";
import { clusterNetwork } from "../../components/cluster/network";
import { EDGE_NODE_PORTS } from "../../components/cluster/types";
import { postgresSettings } from "../../components/workloads/connectionBudget";
import { edgeUrl, ingressSpec, traefikDynamicConfig, traefikValues } from "../../components/workloads/ingressSpec";
import {
    backupCronJobSpec,
    bootstrapJobName,
    bootstrapJobSpec,
    bootstrapSql,
    databaseUrl,
    statefulSetSpec,
} from "../../components/workloads/postgresSpec";
import { catalog } from "./fixtures";
import { allContainers, allowedFlows, containerProblems, expectedFlows } from "./rules";

const users = catalog.get("users")!;
const orders = catalog.get("orders")!;
const app = (over: Record<string, unknown>): AppConfig => appSchema.parse({ version: "1.0.0", ...over });

describe("workloads: replica planning", () => {
    it("splits pods between stable and canary by weight, keeping both sides alive in between", () => {
        assert.deepEqual(splitReplicas(3, 0), { stable: 3, canary: 0 });
        assert.deepEqual(splitReplicas(3, 10), { stable: 2, canary: 1 });
        assert.deepEqual(splitReplicas(3, 100), { stable: 0, canary: 3 });
        assert.deepEqual(splitReplicas(10, 10), { stable: 9, canary: 1 });
        assert.deepEqual(splitReplicas(10, 50), { stable: 5, canary: 5 });
        assert.deepEqual(splitReplicas(4, 99), { stable: 1, canary: 3 });
        // one pod cannot be split: two pods, one each
        assert.deepEqual(splitReplicas(1, 10), { stable: 1, canary: 1 });
    });

    it("mesh on: the weight never changes any Deployment (canary runs canary.replicas)", () => {
        const plans = [0, 10, 100].map((weight) =>
            planReplicas(app({ replicas: 3, autoscaling: { min: 3, max: 10 }, canary: { version: "1.1.0", weight, replicas: 2 } }), true),
        );
        for (const plan of plans) {
            assert.deepEqual(plan, {
                stableReplicas: undefined,
                stableHpa: { min: 3, max: 10, cpuPercent: 70 },
                canaryReplicas: 2,
                pdb: true,
            });
        }
        assert.deepEqual(planReplicas(app({ replicas: 2 }), true), {
            stableReplicas: 2,
            stableHpa: undefined,
            canaryReplicas: undefined,
            pdb: true,
        });
        assert.equal(planReplicas(app({ replicas: 1 }), true).pdb, false);
    });

    it("mesh off: weight 0 scales the canary to 0, 100 the stable side to 0, 10 approximates by ratio", () => {
        const cfg = (weight: number) => app({ replicas: 3, canary: { version: "1.1.0", weight } });
        const w0 = planReplicas(cfg(0), false);
        assert.equal(w0.stableReplicas, 3);
        assert.equal(w0.canaryReplicas, 0);
        const w10 = planReplicas(cfg(10), false);
        assert.equal(w10.stableReplicas, 2);
        assert.equal(w10.canaryReplicas, 1);
        assert.deepEqual(w10.approximation, { weight: 10, stable: 2, canary: 1, canaryPercent: 33.3 });
        const w100 = planReplicas(cfg(100), false);
        assert.equal(w100.stableReplicas, 0);
        assert.equal(w100.canaryReplicas, 3);
        // with autoscaling the stable HPA keeps room for the canary pods within max
        const hpa = planReplicas(app({ replicas: 3, autoscaling: { min: 10, max: 12 }, canary: { version: "1.1.0", weight: 10 } }), false);
        assert.deepEqual(hpa.stableHpa, { min: 9, max: 11, cpuPercent: 70 });
        assert.equal(hpa.stableReplicas, undefined);
        assert.equal(hpa.canaryReplicas, 1);
        // fully promoted: an HPA cannot hold 0 pods, so none for stable
        const promoted = planReplicas(
            app({ replicas: 3, autoscaling: { min: 3, max: 6 }, canary: { version: "1.1.0", weight: 100 } }),
            false,
        );
        assert.equal(promoted.stableHpa, undefined);
        assert.equal(promoted.stableReplicas, 0);
        assert.equal(promoted.canaryReplicas, 3);
    });
});

describe("workloads: microservice specs", () => {
    it("points each app at the Services of the apps it calls, and only those", () => {
        assert.deepEqual(upstreamUrls(catalog.get("orders")!, catalog, "orders-apps"), {
            USERS_URL: "http://users.orders-apps.svc.cluster.local:8081",
        });
        assert.deepEqual(upstreamUrls(catalog.get("users")!, catalog, "orders-apps"), {});
    });

    const config = app({ replicas: 3, resources: { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } } });
    const input = {
        environment: "prod",
        facts: orders,
        config,
        track: "canary" as const,
        version: "1.1.0",
        image: "registry/orders@sha256:" + "a".repeat(64),
        namespace: "orders-apps",
        replicas: 2,
        configMapName: "orders-config",
        serviceAccountName: "orders",
        configHash: "abc",
        databaseSecret: { name: "orders-database", key: "DATABASE_URL" },
        topology: { multiNode: true, multiZone: true },
    };

    it("probes the app's health paths on its port, with limits and a restricted security context", () => {
        const pod = podSpec(input) as any;
        const c = pod.containers[0];
        assert.deepEqual(c.ports, [{ name: "http", containerPort: orders.port, protocol: "TCP" }]);
        assert.equal(c.readinessProbe.httpGet.path, orders.health.readiness);
        assert.equal(c.livenessProbe.httpGet.path, orders.health.liveness);
        assert.equal(c.startupProbe.httpGet.path, orders.health.startup);
        for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) assert.equal(probe.httpGet.port, "http");
        assert.deepEqual(c.resources, { requests: { cpu: "250m", memory: "256Mi" }, limits: { cpu: "1", memory: "512Mi" } });
        assert.deepEqual(containerProblems(pod, c, true), []);
        assert.equal(c.securityContext.runAsUser, 10001);
        assert.deepEqual(pod.volumes, [{ name: "tmp", emptyDir: { sizeLimit: "64Mi" } }]);
        assert.equal(pod.terminationGracePeriodSeconds, 5 + orders.shutdownGraceSeconds + 10);
        assert.equal(pod.automountServiceAccountToken, false);
    });

    it("takes DATABASE_URL from the Secret, never as a literal", () => {
        const c = (podSpec(input) as any).containers[0];
        const dbEnv = c.env.find((e: any) => e.name === "DATABASE_URL");
        assert.deepEqual(dbEnv, { name: "DATABASE_URL", valueFrom: { secretKeyRef: { name: "orders-database", key: "DATABASE_URL" } } });
        assert.deepEqual(c.envFrom, [{ configMapRef: { name: "orders-config" } }]);
    });

    it("rolls out without losing capacity and labels pods app/version/track", () => {
        const d = deploymentSpec(input) as any;
        assert.deepEqual(d.strategy, { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } });
        assert.equal(d.revisionHistoryLimit, 5);
        assert.equal(d.replicas, 2);
        assert.deepEqual(d.selector.matchLabels, { app: "orders", track: "canary" });
        const labels = d.template.metadata.labels;
        assert.equal(labels.app, "orders");
        assert.equal(labels.version, "1.1.0");
        assert.equal(labels.track, "canary");
        assert.equal(d.template.metadata.annotations["orders-platform/config-hash"], "abc");
        assert.equal(d.template.metadata.annotations["prometheus.io/port"], String(orders.port));
        assert.equal(d.template.metadata.annotations["prometheus.io/path"], orders.metricsPath);
    });

    it("spreads over zones (soft) and nodes only where the cluster has them", () => {
        assert.deepEqual(topologySpread("users", "stable", { multiNode: false, multiZone: false }), []);
        const both = topologySpread("users", "stable", { multiNode: true, multiZone: true });
        assert.deepEqual(
            both.map((c) => [c.topologyKey, c.whenUnsatisfiable]),
            [
                ["topology.kubernetes.io/zone", "ScheduleAnyway"],
                ["kubernetes.io/hostname", "DoNotSchedule"],
            ],
        );
        assert.deepEqual((both[0] as any).labelSelector.matchLabels, { app: "users", track: "stable" });
    });

    it("rolls pods when the config changes (hash of the ConfigMap data)", () => {
        const a = configMapData(orders, config, { USERS_URL: "http://users.orders-apps.svc.cluster.local:8081" });
        assert.equal(a.PORT, String(orders.port));
        assert.equal(a.SHUTDOWN_GRACE_SECONDS, String(orders.shutdownGraceSeconds));
        assert.equal(a.LOG_LEVEL, "info");
        assert.equal(a.OTEL_SERVICE_NAME, "orders");
        const b = configMapData(orders, { ...config, logLevel: "debug" }, { USERS_URL: "http://users.orders-apps.svc.cluster.local:8081" });
        assert.notEqual(configHash(a), configHash(b));
        assert.equal(configHash(a), configHash({ ...a }));
    });

    it("one Service selects both tracks; PDB tolerates one disruption", () => {
        const svc = serviceSpec(users) as any;
        assert.deepEqual(svc.selector, { app: "users" });
        assert.deepEqual(svc.ports, [{ name: "http", port: users.port, targetPort: "http", protocol: "TCP", appProtocol: "http" }]);
        assert.deepEqual(pdbSpec("users").selector, { matchLabels: { app: "users" } });
        assert.equal(pdbSpec("users").maxUnavailable, 1);
    });

    it("labels namespaces for injection with the mesh and enforces restricted PSS with and without it", () => {
        assert.equal(namespaceLabels("dev", true)["istio-injection"], "enabled");
        assert.equal(namespaceLabels("dev", false)["istio-injection"], undefined);
        for (const mesh of [true, false]) {
            const labels = namespaceLabels("dev", mesh);
            for (const mode of ["enforce", "audit", "warn"]) assert.equal(labels[`pod-security.kubernetes.io/${mode}`], "restricted");
            assert.equal(labels["pod-security.kubernetes.io/enforce-version"], "latest");
        }
    });
});

describe("workloads: postgres specs", () => {
    const db = databaseSchema.parse({ storage: { size: "20Gi" } });
    const images = imagesSchema.parse({});

    it("bootstraps roles and databases idempotently, passwords only from the environment", () => {
        const roles = (apps: string[]) => ({ apps, connectionLimits: { orders: 72, users: 90 }, baseBackups: false, monitor: false });
        const sql = bootstrapSql(roles(["orders", "users"]));
        for (const role of ["orders", "users", "backup"]) {
            assert.match(sql, new RegExp(`WHERE NOT EXISTS \\(SELECT FROM pg_roles WHERE rolname = '${role}'\\)\\\\gexec`));
            assert.match(sql, new RegExp(`\\\\getenv pw ${role.toUpperCase()}_PASSWORD`));
            assert.match(sql, new RegExp(`ALTER ROLE ${role} WITH LOGIN .* PASSWORD :'pw';`));
        }
        for (const database of ["orders", "users"]) {
            assert.match(sql, new RegExp(`WHERE NOT EXISTS \\(SELECT FROM pg_database WHERE datname = '${database}'\\)\\\\gexec`));
            assert.match(sql, new RegExp(`REVOKE ALL ON DATABASE ${database} FROM PUBLIC;`));
        }
        assert.doesNotMatch(sql, /CREATE (ROLE|DATABASE) [a-z]/, "creates only through the guarded \\gexec form");
        assert.match(sql, /GRANT pg_read_all_data TO backup;/);
        assert.match(bootstrapJobName(roles(["orders", "users"])), /^postgres-bootstrap-[0-9a-f]{8}$/);
        assert.notEqual(bootstrapJobName(roles(["orders", "users"])), bootstrapJobName(roles(["orders"])));
    });

    it("builds DATABASE_URL for the client Service with an URL-encoded password", () => {
        assert.equal(
            databaseUrl("users", "p@ss/w", "users"),
            "postgres://users:p%40ss%2Fw@postgres.orders-data.svc.cluster.local:5432/users",
        );
    });

    it("runs one non-root postgres with a pinned image, pg_isready probes and volumes from config", () => {
        const settings = postgresSettings(db);
        const s = statefulSetSpec({
            config: db,
            image: images.postgres,
            labels: {},
            storageClassName: "gp3",
            retainVolumes: true,
            settings,
        }) as any;
        assert.equal(s.replicas, 1);
        const pod = s.template.spec;
        const c = pod.containers[0];
        assert.match(c.image, /^docker\.io\/library\/postgres:17\.\d+-bookworm@sha256:[0-9a-f]{64}$/, "major 17, by digest");
        assert.deepEqual(containerProblems(pod, c, true), []);
        assert.equal(pod.securityContext.fsGroup, 999);
        assert.equal(c.securityContext.runAsUser, 999);
        for (const probe of ["readinessProbe", "livenessProbe", "startupProbe"]) assert.equal(c[probe].exec.command[0], "pg_isready");
        assert.equal(c.env.find((e: any) => e.name === "PGDATA").value, "/var/lib/postgresql/data/pgdata");
        assert.deepEqual(c.env.find((e: any) => e.name === "POSTGRES_PASSWORD").valueFrom, {
            secretKeyRef: { name: "postgres-superuser", key: "password" },
        });
        assert.deepEqual(c.volumeMounts.map((m: any) => m.mountPath).sort(), [
            "/dev/shm",
            "/tmp",
            "/var/lib/postgresql/data",
            "/var/run/postgresql",
        ]);
        assert.equal(s.volumeClaimTemplates[0].spec.storageClassName, "gp3");
        assert.equal(s.volumeClaimTemplates[0].spec.resources.requests.storage, "20Gi");
        assert.deepEqual(s.persistentVolumeClaimRetentionPolicy, { whenDeleted: "Retain", whenScaled: "Retain" });
        const dev = statefulSetSpec({
            config: db,
            image: images.postgres,
            labels: {},
            storageClassName: "standard",
            retainVolumes: false,
            settings,
        }) as any;
        assert.equal(dev.persistentVolumeClaimRetentionPolicy.whenDeleted, "Delete");
    });

    it("backs up to a PVC with retention, or to S3/GCS through an uploader after the dump", () => {
        const volume = backupCronJobSpec({
            config: db,
            images,
            apps: ["orders", "users"],
            labels: {},
            destination: { kind: "volume", claimName: "postgres-backups" },
            storageClassName: "standard",
        }) as any;
        assert.equal(volume.schedule, "0 2 * * *");
        assert.equal(volume.concurrencyPolicy, "Forbid");
        assert.equal(volume.jobTemplate.spec.backoffLimit, 2);
        assert.ok(volume.jobTemplate.spec.activeDeadlineSeconds > 0);
        const vpod = volume.jobTemplate.spec.template.spec;
        assert.equal(vpod.initContainers, undefined);
        const dump = vpod.containers[0];
        assert.deepEqual(
            dump.env.find((e: any) => e.name === "RETENTION_DAYS"),
            { name: "RETENTION_DAYS", value: "7" },
        );
        assert.deepEqual(
            dump.env.find((e: any) => e.name === "DATABASES"),
            { name: "DATABASES", value: "orders users" },
        );
        assert.deepEqual(
            dump.env.find((e: any) => e.name === "PGUSER"),
            { name: "PGUSER", value: "backup" },
        );
        assert.deepEqual(
            vpod.volumes.find((v: any) => v.name === "backups"),
            { name: "backups", persistentVolumeClaim: { claimName: "postgres-backups" } },
        );
        assert.deepEqual(volume.jobTemplate.spec.template.metadata.annotations, { "sidecar.istio.io/nativeSidecar": "true" });

        const s3 = backupCronJobSpec({
            config: db,
            images,
            apps: ["users"],
            labels: {},
            destination: { kind: "s3", url: "s3://b/postgres", region: "eu-west-1" },
            storageClassName: "gp3",
        }) as any;
        const spod = s3.jobTemplate.spec.template.spec;
        assert.equal(spod.initContainers[0].name, "dump");
        assert.equal(spod.containers[0].image, images.awsCli);
        assert.match(images.awsCli, /^public\.ecr\.aws\/aws-cli\/aws-cli:2\.\d+\.\d+@sha256:[0-9a-f]{64}$/);
        assert.deepEqual(spod.containers[0].command, ["/scripts/backup-upload.sh"]);
        assert.deepEqual(
            spod.containers[0].env.find((e: any) => e.name === "BACKUP_URL"),
            { name: "BACKUP_URL", value: "s3://b/postgres" },
        );
        assert.deepEqual(
            spod.initContainers[0].env.find((e: any) => e.name === "LOCAL_RETENTION"),
            { name: "LOCAL_RETENTION", value: "false" },
            "the uploader owns retention in the bucket",
        );
        assert.equal(spod.serviceAccountName, "postgres-backup");

        const gcs = backupCronJobSpec({
            config: db,
            images,
            apps: ["users"],
            labels: {},
            destination: { kind: "gcs", url: "gs://b/postgres" },
            storageClassName: "standard-rwo",
        }) as any;
        const gpod = gcs.jobTemplate.spec.template.spec;
        assert.equal(gpod.containers[0].image, images.gcloudCli);
        assert.match(images.gcloudCli, /^gcr\.io\/google\.com\/cloudsdktool\/google-cloud-cli:\d+\.\d+\.\d+-slim@sha256:[0-9a-f]{64}$/);
        assert.deepEqual(
            gpod.containers[0].env.filter((e: any) => ["STORE", "BACKUP_URL"].includes(e.name)),
            [
                { name: "STORE", value: "gcs" },
                { name: "BACKUP_URL", value: "gs://b/postgres" },
            ],
        );

        for (const spec of [volume, s3, gcs]) {
            const pod = spec.jobTemplate.spec.template.spec;
            for (const { container } of allContainers(pod)) assert.deepEqual(containerProblems(pod, container, false), []);
        }
        const boot = bootstrapJobSpec(images.postgres, ["users"], {}) as any;
        for (const { container } of allContainers(boot.template.spec))
            assert.deepEqual(containerProblems(boot.template.spec, container, false), []);
    });

    it("runs the bootstrap Job as its own ServiceAccount with a native sidecar (its mesh identity)", () => {
        const boot = bootstrapJobSpec(images.postgres, ["users"], {}) as any;
        assert.equal(boot.template.spec.serviceAccountName, "postgres-bootstrap");
        assert.deepEqual(boot.template.metadata.annotations, { "sidecar.istio.io/nativeSidecar": "true" });
    });
});

describe("workloads: NetworkPolicies from the graph", () => {
    const eks = clusterNetwork(
        clusterSchema.parse({
            provider: "eks",
            eks: { region: "eu-west-1", deployerRoleArn: "arn:aws:iam::123456789012:role/deploy", vpcCidr: "10.20.0.0/16" },
        }),
    );
    const kind = clusterNetwork(clusterSchema.parse({ provider: "kind" }));
    const meshOn: NetworkPolicyOptions = {
        meshEnabled: true,
        tracing: true,
        backupTarget: "s3",
        monitoring: { grafana: true },
        network: eks,
        jwksFetch: true,
    };
    const meshOff: NetworkPolicyOptions = {
        meshEnabled: false,
        tracing: false,
        backupTarget: "volume",
        monitoring: { grafana: true },
        edgeController: true,
        network: kind,
    };
    const variants: Array<[string, NetworkPolicyOptions]> = [
        ["mesh on, S3 backups, every platform namespace", meshOn],
        ["mesh off (Traefik), volume backups", meshOff],
        ["mesh on, GCS backups, no observability", { meshEnabled: true, tracing: false, backupTarget: "gcs", network: kind }],
        ["app namespaces only", { meshEnabled: true, tracing: true, backupTarget: "volume" }],
    ];
    const graph = trafficGraph(catalog, { metricsScraping: true, backups: true });
    const flowsOf = (o: NetworkPolicyOptions) => allowedFlows(networkPolicySpecs(graph, o), catalog, o);

    for (const [label, options] of variants) {
        it(`${label}: allows exactly the graph, the infrastructure and the platform edges, in both directions`, () => {
            const actual = flowsOf(options);
            const expected = expectedFlows(allEdges(graph, options), options);
            assert.deepEqual([...actual.ingress].sort(), [...expected.ingress].sort());
            assert.deepEqual([...actual.egress].sort(), [...expected.egress].sort());
        });
    }

    it("denies by default in every namespace the program owns", () => {
        const denies = (o: NetworkPolicyOptions) =>
            networkPolicySpecs(graph, o)
                .filter((p) => p.name === "default-deny")
                .map((p) => {
                    assert.deepEqual(p.spec, { podSelector: {}, policyTypes: ["Ingress", "Egress"] });
                    return p.namespace;
                });
        assert.deepEqual(denies(meshOn), [
            "orders-apps",
            "orders-data",
            "istio-system",
            "istio-ingress",
            "istio-cni",
            "monitoring",
            "tracing",
        ]);
        assert.deepEqual(denies(meshOff), ["orders-apps", "orders-data", "ingress-traefik", "monitoring"]);
    });

    it("only the edge is open to any source, on its public ports; every other rule names its peers and ports", () => {
        for (const [, options] of variants) {
            for (const p of networkPolicySpecs(graph, options)) {
                const spec = p.spec as any;
                for (const rule of spec.egress ?? []) assert.ok(rule.to?.length > 0 && rule.ports?.length > 0, `${p.namespace}/${p.name}`);
                for (const rule of spec.ingress ?? []) {
                    assert.ok(rule.ports?.length > 0, `${p.namespace}/${p.name} has a rule without ports`);
                    if (!rule.from) assert.match(p.name, /^ingress-edge-from-anywhere-/, `${p.namespace}/${p.name} admits any source`);
                }
            }
        }
        const open = (o: NetworkPolicyOptions) => [...flowsOf(o).ingress].filter((f) => f.startsWith("*->")).sort();
        assert.deepEqual(open(meshOn), ["*->edge:TCP/15021", "*->edge:TCP/443", "*->edge:TCP/80"]);
        assert.deepEqual(open(meshOff), ["*->edge:TCP/8000", "*->edge:TCP/8443"]);
    });

    it("states the concrete app edges: edge -> apps, orders -> users, apps and Jobs -> postgres, prometheus -> apps", () => {
        const flows = flowsOf(meshOff);
        for (const f of [
            `edge->users:TCP/${catalog.get("users")!.port}`,
            `edge->orders:TCP/${catalog.get("orders")!.port}`,
            `orders->users:TCP/${catalog.get("users")!.port}`,
            "users->postgres:TCP/5432",
            "orders->postgres:TCP/5432",
            "backup->postgres:TCP/5432",
            "bootstrap->postgres:TCP/5432",
            `prometheus->users:TCP/${catalog.get("users")!.port}`,
        ]) {
            assert.ok(flows.ingress.has(f), `ingress ${f} missing`);
        }
        assert.ok(flows.egress.has(`orders->users:TCP/${catalog.get("users")!.port}`));
        assert.ok(!flows.egress.has(`users->orders:TCP/${catalog.get("orders")!.port}`), "users must not call orders");
        assert.ok(!flows.ingress.has("edge->postgres:TCP/5432"));
    });

    it("Prometheus, Alertmanager, Grafana and Jaeger are reachable only from where they must be", () => {
        const into = (target: string) =>
            [...flowsOf(meshOn).ingress]
                .filter((f) => f.split("->")[1].startsWith(`${target}:`))
                .map((f) => f.replace(`->${target}`, ""))
                .sort();
        assert.deepEqual(into("prometheus"), ["grafana:TCP/9090", "prometheus:TCP/8080", "prometheus:TCP/9090"]);
        assert.deepEqual(into("alertmanager"), ["grafana:TCP/9093", "prometheus:TCP/8080", "prometheus:TCP/9093"]);
        assert.deepEqual(into("grafana"), ["prometheus:TCP/3000"]);
        assert.deepEqual(into("tracing"), [
            "all-orders-apps:TCP/4317",
            "all-orders-apps:TCP/4318",
            "all-orders-data:TCP/4317",
            "edge:TCP/4317",
            "grafana:TCP/16686",
            "prometheus:TCP/8888",
        ]);
        // The UIs are for port-forwarding only: nothing public reaches them.
        for (const f of flowsOf(meshOn).ingress) assert.ok(!/^\*->(prometheus|alertmanager|grafana|tracing):/.test(f), f);
    });

    it("reaches the API server only from the components that watch it, on its ports only", () => {
        const toApi = (o: NetworkPolicyOptions) =>
            [
                ...new Set(
                    [...flowsOf(o).egress]
                        .filter((f) => /->ipBlock:.*:TCP\/(443|6443)$/.test(f) && !f.includes("0.0.0.0/0"))
                        .map((f) => f.split("->")[0]),
                ),
            ].sort();
        assert.deepEqual(toApi(meshOn), ["grafana", "istio-cni", "istiod", "kube-state-metrics", "prometheus", "prometheus-operator"]);
        assert.deepEqual(toApi(meshOff), ["edge", "grafana", "kube-state-metrics", "prometheus", "prometheus-operator"]);
        const istiod = [...flowsOf(meshOn).egress].filter((f) => f.startsWith("istiod->ipBlock:")).sort();
        assert.deepEqual(istiod, [
            "istiod->ipBlock:0.0.0.0/0-10.0.0.0/8,172.16.0.0/12,192.168.0.0/16:TCP/443",
            "istiod->ipBlock:10.20.0.0/16:TCP/443",
            "istiod->ipBlock:172.20.0.1/32:TCP/443",
        ]);
        assert.ok(flowsOf(meshOn).ingress.has("ipBlock:10.20.0.0/16->istiod:TCP/15017"), "the API server reaches istiod's webhooks");
    });

    it("infrastructure edges of the app and data pods are only DNS, istiod/sidecar metrics (mesh), OTLP (tracing), JWKS and object storage", () => {
        const name = (p: NetPeer) => (p.kind === "namespace" ? `all:${p.namespace}` : p.kind === "ipBlock" ? p.cidrs.join(",") : p.kind);
        const describe = (o: NetworkPolicyOptions) =>
            infrastructureEdges(graph, o)
                .map((e) => `${name(e.from)}->${name(e.to)}:${e.ports.map((p) => `${p.protocol}/${p.port}`).join(",")}`)
                .sort();
        assert.deepEqual(describe(meshOff), ["all:orders-apps->dns:UDP/53,TCP/53", "all:orders-data->dns:UDP/53,TCP/53"]);
        assert.deepEqual(describe(meshOn), [
            "all:orders-apps->0.0.0.0/0:TCP/443",
            "all:orders-apps->dns:UDP/53,TCP/53",
            "all:orders-apps->istiod:TCP/15012",
            "all:orders-apps->tracing:TCP/4317,TCP/4318",
            "all:orders-data->dns:UDP/53,TCP/53",
            "all:orders-data->istiod:TCP/15012",
            "all:orders-data->tracing:TCP/4317",
            "backup->0.0.0.0/0:TCP/443",
            "prometheus->all:orders-apps:TCP/15020,TCP/15021",
            "prometheus->all:orders-data:TCP/15020,TCP/15021",
        ]);
    });
});

describe("workloads: ingress edge specs", () => {
    it("rate-limits every request per client on both entry points with a file-provider middleware (no Traefik CRDs), 429 above it", () => {
        const limited = edgeSchema.parse({ host: "localhost", rateLimit: { requestsPerSecond: 5, burst: 10 } });
        const values = traefikValues(limited, { type: "LoadBalancer" }) as any;
        assert.deepEqual(values.providers.file, {
            enabled: true,
            watch: false,
            content: { http: { middlewares: { "edge-rate-limit": { rateLimit: { average: 5, period: "1s", burst: 10 } } } } },
        });
        for (const port of ["web", "websecure"]) assert.deepEqual(values.ports[port].http, { middlewares: ["edge-rate-limit@file"] });
        assert.equal(values.providers.kubernetesCRD.enabled, false);
        const behindProxy = traefikDynamicConfig({ ...limited.rateLimit, trustedProxies: 1 }) as any;
        assert.deepEqual(behindProxy.http.middlewares["edge-rate-limit"].rateLimit.sourceCriterion, { ipStrategy: { depth: 1 } });
        const off = traefikValues(edgeSchema.parse({ host: "localhost", rateLimit: { enabled: false } }), { type: "LoadBalancer" }) as any;
        assert.deepEqual(off.providers.file, { enabled: false });
        assert.equal(off.ports.web.http, undefined);
    });

    const edge = edgeSchema.parse({
        host: "orders.example.com",
        tls: { enabled: true, secretName: "orders-edge-tls" },
        ingressClass: "traefik",
    });

    it("routes each app's API prefix to its Service, with TLS when configured", () => {
        const spec = ingressSpec(edge, [...catalog.values()]) as any;
        assert.equal(spec.ingressClassName, "traefik");
        assert.equal(spec.rules[0].host, "orders.example.com");
        assert.deepEqual(
            spec.rules[0].http.paths.map((p: any) => [p.path, p.pathType, p.backend.service.name, p.backend.service.port.number]),
            [
                ["/api/orders", "Prefix", "orders", orders.port],
                ["/api/users", "Prefix", "users", users.port],
            ],
        );
        assert.deepEqual(spec.tls, [{ hosts: ["orders.example.com"], secretName: "orders-edge-tls" }]);
        assert.equal(ingressSpec({ ...edge, tls: { enabled: false } }, [users]).tls, undefined);
    });

    it("publishes Traefik on the kind NodePorts with our IngressClass and only the Ingress provider", () => {
        const values = traefikValues(
            { ...edge, tls: { enabled: false } },
            { type: "NodePort", hostPorts: { http: 8080, https: 8443 } },
        ) as any;
        assert.deepEqual(values.ingressClass, { enabled: true, isDefaultClass: false, name: "traefik" });
        // Chart 41.x: the Service type lives under service.spec, logs under log/accessLog.
        assert.deepEqual(values.service, { spec: { type: "NodePort" } });
        assert.deepEqual(values.log, { level: "INFO", format: "json" });
        assert.deepEqual(values.accessLog, { enabled: true, format: "json" });
        assert.equal(values.logs, undefined);
        assert.equal(values.ports.web.nodePort, EDGE_NODE_PORTS.http);
        assert.equal(values.ports.websecure.nodePort, EDGE_NODE_PORTS.https);
        assert.equal(values.providers.kubernetesCRD.enabled, false);
        assert.equal(values.providers.kubernetesIngress.enabled, true);
        assert.deepEqual(values.providers.kubernetesIngress.namespaces, ["orders-apps"], "watches only the app namespace");
        assert.equal(values.podSecurityContext.runAsNonRoot, true);
        assert.ok(values.resources.limits.cpu && values.resources.limits.memory);
        assert.equal(
            edgeUrl({ ...edge, host: "localhost", tls: { enabled: false } }, { type: "NodePort", hostPorts: { http: 8080, https: 8443 } }),
            "http://localhost:8080",
        );
        assert.equal(edgeUrl(edge, { type: "LoadBalancer" }), "https://orders.example.com");
    });
});
