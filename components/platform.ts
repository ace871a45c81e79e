// The program's wiring: config -> cluster -> images -> platform (mesh, observability, database) -> apps
// -> traffic. Each step is a component; this function only passes their outputs on. index.ts calls it
// for the running stack, and the tests call it (through index.ts) for every stack they check.
import * as pulumi from "@pulumi/pulumi";
import { TeamAccess } from "./access";
import { LocalIssuer, tokenVerification } from "./auth";
import { connectionLimits, stackConnectionBudget } from "./budgets";
import { Cluster } from "./cluster";
import type { LoadedConfig } from "./config";
import { dumpOrder, Postgres } from "./database";
import { IngressEdge } from "./edge";
import { AppImages } from "./images";
import { Istio, MeshTraffic } from "./mesh";
import { AppNamespaces } from "./namespaces";
import { AdmissionPolicies } from "./guardrails";
import { externalHosts, managedNamespaces, NetworkPolicies, networkPolicyOptions, trafficGraph } from "./network";
import { Alerting, Logs, Observability } from "./observability";
import { MicroService, upstreamUrls } from "./workloads";

/** The stack outputs. */
export interface PlatformOutputs {
    stackEnvironment: string;
    clusterProvider: string;
    /** A secret. */
    kubeconfig: pulumi.Output<string>;
    edgeUrl: pulumi.Output<string>;
    grafanaUrl: pulumi.Output<string>;
    jaegerUrl: pulumi.Output<string>;
    imageRefs: AppImages["refs"];
    /**
     * dev: what `npm run token` needs to sign tokens for this stack (the private key is a secret);
     * null where an identity provider issues the tokens.
     */
    devAuth: LocalIssuer["signing"] | null;
    appVersions: Record<string, { stable: string; canary?: string; canaryWeight: number }>;
}

/** Declares every resource of the stack from its checked config. */
export function deployPlatform({ config, catalog, render }: LoadedConfig): PlatformOutputs {
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
    const policyOptions = networkPolicyOptions(config, cluster.network, cluster.backupTarget.kind, cluster.logsStorage.kind);

    // --- guardrails: the policy pack's workload rules, enforced by the API server itself -----------
    // Bound in every namespace the program owns (the same list the default-deny policies cover),
    // so kubectl and GitOps applies meet the rules a preview applies.
    new AdmissionPolicies("admission", { environment, config: config.admission, namespaces: managedNamespaces(policyOptions) }, k8sOpts);

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
              claims: {
                  user: config.auth.userClaim,
                  email: config.auth.emailClaim,
                  emailVerified: config.auth.emailVerifiedClaim,
                  roles: config.auth.rolesClaim,
                  canary: config.auth.canaryClaim,
              },
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
            images: config.images,
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
                // A restore stops the writers (components/database/RESTORE.md).
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
                  externalHosts: externalHosts(config, { backup: cluster.backupTarget.kind, logs: cluster.logsStorage.kind }),
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
            ...policyOptions,
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

    return {
        stackEnvironment: environment,
        clusterProvider: config.cluster.provider,
        kubeconfig: pulumi.secret(cluster.kubeconfig),
        edgeUrl: edge.url,
        grafanaUrl: observability.grafanaUrl,
        jaegerUrl: observability.jaegerUrl,
        imageRefs: images.refs,
        devAuth: localIssuer?.signing ?? null,
        appVersions: Object.fromEntries(
            Object.entries(config.apps).map(([name, app]) => [
                name,
                { stable: app.version, canary: app.canary?.version, canaryWeight: app.canary?.weight ?? 0 },
            ]),
        ),
    };
}
