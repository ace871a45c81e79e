// Composition root: config -> cluster -> images -> platform (mesh, observability, database) -> apps.
// Each step is a component; this file only wires their outputs together.
import * as pulumi from "@pulumi/pulumi";
import { TeamAccess } from "./components/access";
import { trafficGraph } from "./components/appGraph";
import { Cluster } from "./components/cluster";
import { loadStackConfig } from "./components/config";
import { AppImages } from "./components/images";
import { Istio, MeshTraffic } from "./components/mesh";
import { Observability } from "./components/observability";
import { AppNamespaces, IngressEdge, MicroService, NetworkPolicies, Postgres, upstreamUrls } from "./components/workloads";

const { config, catalog, render } = loadStackConfig();
const { environment } = config;
const protect = config.protect;

// --- cluster ---------------------------------------------------------------
const cluster = new Cluster("cluster", {
    environment,
    config: config.cluster,
    appNames: [...catalog.keys()],
    protect,
    backupRetentionDays: config.database.backup.retentionDays,
    images: config.images,
    accessGroups: config.access.groups,
    render,
});
const k8sOpts = { provider: cluster.provider };

// --- images ----------------------------------------------------------------
const images = new AppImages("images", {
    catalog,
    apps: config.apps,
    registry: cluster.registry,
    platform: cluster.imagePlatform,
});

// --- mesh control plane ------------------------------------------------------
const istio = config.mesh.enabled
    ? new Istio("istio", { environment, config: config.mesh, topology: cluster.topology, chart: config.charts.istio }, k8sOpts)
    : undefined;

// --- observability -----------------------------------------------------------
const observability = new Observability(
    "observability",
    {
        environment,
        config: config.observability,
        mesh: config.mesh,
        storageClassName: cluster.storageClassName,
        catalog,
        istio,
        charts: config.charts,
    },
    k8sOpts,
);

// --- namespaces, database --------------------------------------------------
const namespaces = new AppNamespaces(
    "namespaces",
    { environment, sidecarInjection: config.mesh.enabled, protect },
    { ...k8sOpts, dependsOn: istio ? [istio] : [] },
);

const database = new Postgres(
    "postgres",
    {
        environment,
        config: config.database,
        namespace: namespaces.dataNamespace,
        appNamespace: namespaces.appNamespace,
        databaseApps: [...catalog.values()].filter((a) => a.database).map((a) => a.name),
        storageClassName: cluster.storageClassName,
        backupTarget: cluster.backupTarget,
        protect,
        meshEnabled: config.mesh.enabled,
        images: config.images,
    },
    k8sOpts,
);

// --- people: team roles bound to the configured groups -----------------------
new TeamAccess(
    "team-access",
    { environment, groups: config.access.groups, namespaces: { app: namespaces.appNamespace, data: namespaces.dataNamespace } },
    k8sOpts,
);

// --- apps ------------------------------------------------------------------
const services: Record<string, MicroService> = {};
for (const facts of catalog.values()) {
    services[facts.name] = new MicroService(
        facts.name,
        {
            environment,
            facts,
            config: config.apps[facts.name],
            image: images.refs[facts.name],
            namespace: namespaces.appNamespace,
            databaseSecret: database.appSecrets[facts.name],
            env: {
                ...upstreamUrls(facts, catalog, namespaces.appNamespaceName),
                ...(observability.otlpEndpoint ? { OTEL_EXPORTER_OTLP_ENDPOINT: observability.otlpEndpoint } : {}),
            },
            meshEnabled: config.mesh.enabled,
            topology: cluster.topology,
        },
        { ...k8sOpts, dependsOn: [database] },
    );
}

// --- traffic: mesh routing or a plain Ingress ------------------------------
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
        namespaces,
        tracing: config.observability.jaeger.enabled,
        backupTarget: cluster.backupTarget.kind,
    },
    k8sOpts,
);

const edge = istio
    ? new MeshTraffic(
          "mesh-traffic",
          {
              environment,
              mesh: config.mesh,
              edge: config.edge,
              apps: config.apps,
              catalog,
              graph,
              namespaces,
              istio,
              publicPorts: cluster.edgeHostPorts,
              tracing: config.observability.jaeger.enabled,
          },
          { ...k8sOpts, dependsOn: Object.values(services) },
      )
    : new IngressEdge(
          "edge",
          {
              environment,
              edge: config.edge,
              apps: config.apps,
              catalog,
              namespaces,
              services,
              exposure: cluster.edgeHostPorts ? { type: "NodePort", hostPorts: cluster.edgeHostPorts } : undefined,
              chart: config.charts.traefik,
          },
          { ...k8sOpts, dependsOn: Object.values(services) },
      );

// --- stack outputs ---------------------------------------------------------
export const stackEnvironment = environment;
export const clusterProvider = config.cluster.provider;
export const kubeconfig = pulumi.secret(cluster.kubeconfig);
export const edgeUrl = edge.url;
export const grafanaUrl = observability.grafanaUrl;
export const jaegerUrl = observability.jaegerUrl;
export const imageRefs = images.refs;
export const appVersions = Object.fromEntries(
    Object.entries(config.apps).map(([name, app]) => [
        name,
        { stable: app.version, canary: app.canary?.version, canaryWeight: app.canary?.weight ?? 0 },
    ]),
);
