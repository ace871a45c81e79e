// Instantiates the workload components the way index.ts does, for a shipped stack's config,
// with stand-ins for what the cluster and images components would provide.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { trafficGraph } from "../../components/appGraph";
import type { BackupTarget, ClusterTopology } from "../../components/cluster/types";
import { clusterTopology } from "../../components/cluster/topology";
import type { AppCatalog, StackConfig } from "../../components/config";
import { AppNamespaces, IngressEdge, MicroService, NetworkPolicies, Postgres, upstreamUrls } from "../../components/workloads";
import { fakeDigest } from "../harness/mockRegistry";
import { appCatalog, applyOverrides, CapturedResource, ProgramRun, readStackFile, runProgram, stackConfig, testAuth } from "../harness";

export { stackConfig };
export const catalog: AppCatalog = appCatalog;

export function topologyFor(config: StackConfig): ClusterTopology {
    return clusterTopology(config.cluster);
}

export const BACKUP_BUCKET = "orders-backups-bucket";
export const IRSA_ROLE = "arn:aws:iam::123456789012:role/orders-postgres-backup";
export const GSA = "postgres-backup@orders-staging-1234.iam.gserviceaccount.com";

export function backupTargetFor(config: StackConfig): BackupTarget {
    switch (config.cluster.provider) {
        case "eks":
            return {
                kind: "s3",
                bucket: pulumi.output(BACKUP_BUCKET),
                region: config.cluster.eks!.region,
                serviceAccountAnnotations: pulumi.output<Record<string, string>>({ "eks.amazonaws.com/role-arn": IRSA_ROLE }),
            };
        case "gke":
            return {
                kind: "gcs",
                bucket: pulumi.output(BACKUP_BUCKET),
                serviceAccountAnnotations: pulumi.output<Record<string, string>>({ "iam.gke.io/gcp-service-account": GSA }),
            };
        default:
            return { kind: "volume" };
    }
}

export function imageRef(app: string, version: string): string {
    return `registry.example.com/${app}@${fakeDigest(`${app}:${version}`)}`;
}

export interface WorkloadsRun {
    run: ProgramRun<{ url?: string; appSecrets: Record<string, { name: string; key: string }> }>;
    config: StackConfig;
}

/** index.ts's workload section, under mocks. */
export async function deployWorkloads(stack: string, overrides: Record<string, unknown> = {}): Promise<WorkloadsRun> {
    const config = stackConfig(stack, overrides);
    const { environment } = config;
    const run = await runProgram(
        () => {
            const provider = new k8s.Provider("k8s", { kubeconfig: "{}" });
            const opts = { provider };
            const topology = topologyFor(config);
            const backupTarget = backupTargetFor(config);
            const namespaces = new AppNamespaces(
                "namespaces",
                { environment, sidecarInjection: config.mesh.enabled, protect: config.protect },
                opts,
            );
            const database = new Postgres(
                "postgres",
                {
                    environment,
                    config: config.database,
                    namespace: namespaces.dataNamespace,
                    appNamespace: namespaces.appNamespace,
                    databaseApps: [...catalog.values()].filter((a) => a.database).map((a) => a.name),
                    storageClassName: pulumi.output(config.cluster.provider === "kind" ? "standard" : "gp3"),
                    backupTarget,
                    protect: config.protect,
                    images: config.images,
                },
                opts,
            );
            const services: Record<string, MicroService> = {};
            for (const facts of catalog.values()) {
                const app = config.apps[facts.name];
                services[facts.name] = new MicroService(
                    facts.name,
                    {
                        environment,
                        facts,
                        config: app,
                        image: {
                            stable: pulumi.output(imageRef(facts.name, app.version)),
                            canary: app.canary ? pulumi.output(imageRef(facts.name, app.canary.version)) : undefined,
                        },
                        namespace: namespaces.appNamespace,
                        databaseSecret: database.appSecrets[facts.name],
                        env: {
                            ...upstreamUrls(facts, catalog, namespaces.appNamespaceName),
                            OTEL_EXPORTER_OTLP_ENDPOINT: pulumi.output("http://jaeger-collector.tracing.svc.cluster.local:4318"),
                        },
                        auth: testAuth(config),
                        meshEnabled: config.mesh.enabled,
                        topology,
                    },
                    { ...opts, dependsOn: [database] },
                );
            }
            const graph = trafficGraph(catalog, {
                metricsScraping: config.observability.prometheus.enabled,
                backups: config.database.backup.enabled,
            });
            new NetworkPolicies(
                "network-policies",
                {
                    environment,
                    graph,
                    catalog,
                    meshEnabled: config.mesh.enabled,
                    namespaces: {
                        [namespaces.appNamespaceName]: namespaces.appNamespace,
                        [namespaces.dataNamespaceName]: namespaces.dataNamespace,
                    },
                    tracing: config.observability.jaeger.enabled,
                    backupTarget: backupTarget.kind,
                },
                opts,
            );
            const edge = config.mesh.enabled
                ? undefined
                : new IngressEdge(
                      "edge",
                      {
                          environment,
                          edge: config.edge,
                          apps: config.apps,
                          catalog,
                          namespaces,
                          services,
                          chart: config.charts.traefik,
                          exposure:
                              config.cluster.provider === "kind" && config.cluster.kind
                                  ? {
                                        type: "NodePort",
                                        hostPorts: { http: config.cluster.kind.httpPort, https: config.cluster.kind.httpsPort },
                                    }
                                  : undefined,
                      },
                      { ...opts, dependsOn: Object.values(services) },
                  );
            return { url: edge?.url, appSecrets: database.appSecrets };
        },
        { stack, config: applyOverrides(readStackFile(stack), overrides) },
    );
    return { run: run as unknown as WorkloadsRun["run"], config };
}

/** The password a RandomPassword named `name` resolves to under the shared mocks. */
export function mockPassword(name: string, length = 32): string {
    return `mock-pw-${name}`.padEnd(length, "x").slice(0, length);
}

export const POD_KINDS = [
    "kubernetes:apps/v1:Deployment",
    "kubernetes:apps/v1:StatefulSet",
    "kubernetes:batch/v1:Job",
    "kubernetes:batch/v1:CronJob",
];

export function podTemplate(r: CapturedResource): any {
    return r.inputs.kind === "CronJob" ? r.inputs.spec.jobTemplate.spec.template : r.inputs.spec.template;
}
