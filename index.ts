// Composition root: config -> cluster -> images -> platform (mesh, observability, database) -> apps.
// Each step is a component; this file only wires their outputs together.
import * as pulumi from "@pulumi/pulumi";
import { TeamAccess } from "./components/access";
import { trafficGraph } from "./components/appGraph";
import { LocalIssuer, tokenVerification } from "./components/auth";
import { Cluster } from "./components/cluster";
import { loadStackConfig } from "./components/config";
import { AppImages } from "./components/images";
import { Istio, MeshTraffic } from "./components/mesh";
import { Alerting, Logs, Observability } from "./components/observability";
import {
    AppNamespaces,
    IngressEdge,
    MicroService,
    NetworkPolicies,
    networkPolicyOptions,
    Postgres,
    upstreamUrls,
} from "./components/workloads";
import { connectionLimits, stackConnectionBudget } from "./components/workloads/connectionBudget";
import { dumpOrder } from "./components/workloads/postgresSpec";

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
    logs: config.observability.logs.enabled,
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
    ? new Istio(
          "istio",
          {
              environment,
              config: config.mesh,
              topology: cluster.topology,
              network: cluster.network,
              rateLimit: config.edge.rateLimit,
              chart: config.charts.istio,
          },
          k8sOpts,
      )
    : undefined;

// --- authentication: the stack's issuer, or (dev) a signing key the program creates ----------
const localIssuer = config.auth.localIssuer
    ? new LocalIssuer("local-issuer", {
          audience: config.auth.audiences[0],
          claims: { user: config.auth.userClaim, roles: config.auth.rolesClaim, canary: config.auth.canaryClaim },
      })
    : undefined;
const auth = tokenVerification(config.auth, localIssuer);

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

// Pod logs: Loki, fed by Alloy on every node; its bucket (EKS, GKE) comes with the cluster.
const logs = config.observability.logs.enabled
    ? new Logs(
          "logs",
          {
              environment,
              config: config.observability.logs,
              store: cluster.logsStorage,
              storageClassName: cluster.storageClassName,
              images: config.images,
              charts: config.charts,
          },
          k8sOpts,
      )
    : undefined;

// Alerts reach the configured receivers (the CRDs and the namespace come with the chart).
if (config.observability.prometheus.enabled) {
    new Alerting(
        "alerting",
        {
            environment,
            config: config.observability.alerting,
            secrets: config.alertingSecrets,
            database: config.database,
            postgresExporter: [...catalog.values()].some((a) => a.database),
        },
        { ...k8sOpts, dependsOn: [observability] },
    );
}

// --- namespaces, database --------------------------------------------------
// Every database client's worst case fits max_connections (checked with the config).
const connectionBudget = stackConnectionBudget(config, catalog);
const databaseApps = [...catalog.values()].filter((a) => a.database);
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
        databaseApps: databaseApps.map((a) => a.name),
        storageClassName: cluster.storageClassName,
        backupTarget: cluster.backupTarget,
        protect,
        images: config.images,
        connectionLimits: connectionLimits(connectionBudget),
        dumpOrder: dumpOrder(databaseApps),
        exporter: config.observability.prometheus.enabled,
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
            auth,
            meshEnabled: config.mesh.enabled,
            topology: cluster.topology,
            // A restore stops the writers (components/workloads/RESTORE.md).
            suspended: facts.database && config.database.maintenance !== "off",
        },
        { ...k8sOpts, dependsOn: [database] },
    );
}

// --- traffic: mesh routing or a plain Ingress ------------------------------
const graph = trafficGraph(catalog, {
    metricsScraping: config.observability.prometheus.enabled,
    backups: config.database.backup.enabled,
});

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
              auth,
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

// --- NetworkPolicies: default deny in every namespace the program owns, then exactly the allows -----
new NetworkPolicies(
    "network-policies",
    {
        environment,
        graph,
        catalog,
        ...networkPolicyOptions(config, cluster.network, cluster.backupTarget.kind, cluster.logsStorage.kind),
        namespaces: {
            [namespaces.appNamespaceName]: namespaces.appNamespace,
            [namespaces.dataNamespaceName]: namespaces.dataNamespace,
            ...(istio?.namespaces ?? {}),
            ...observability.namespaces,
            ...(logs?.namespaces ?? {}),
            ...(edge instanceof IngressEdge ? edge.namespaces : {}),
        },
    },
    k8sOpts,
);

// --- stack outputs ---------------------------------------------------------
export const stackEnvironment = environment;
export const clusterProvider = config.cluster.provider;
export const kubeconfig = pulumi.secret(cluster.kubeconfig);
export const edgeUrl = edge.url;
export const grafanaUrl = observability.grafanaUrl;
export const jaegerUrl = observability.jaegerUrl;
export const imageRefs = images.refs;
/**
 * dev: what `npm run token` needs to sign tokens for this stack (the private key is a secret);
 * null where an identity provider issues the tokens.
 */
export const devAuth = localIssuer?.signing ?? null;
export const appVersions = Object.fromEntries(
    Object.entries(config.apps).map(([name, app]) => [
        name,
        { stable: app.version, canary: app.canary?.version, canaryWeight: app.canary?.weight ?? 0 },
    ]),
);
