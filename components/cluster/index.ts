// The cluster of a stack: one variant per `cluster.provider`, all with the same outputs.
import type * as k8s from "@pulumi/kubernetes";
import type { TeamGroups } from "../access/roleSpec";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig, Environment, ImageRefs, RenderMode } from "../config";
import { IMAGE_PLATFORM } from "../images/imageSpec";
import { createEks } from "./eks";
import { createExisting } from "./existing";
import { createGke } from "./gke";
import { createKind } from "./kind";
import { clusterNetwork, type ClusterNetwork } from "./network";
import { createRendered } from "./render";
import { clusterTopology } from "./topology";
import type { BackupTarget, ClusterOutputs, ClusterTopology, LogsStorage, RegistryInfo } from "./types";
import type { VariantArgs, VariantOutputs } from "./variant";

export * from "./types";
export { clusterTopology } from "./topology";
export * from "./network";

export interface ClusterArgs {
    environment: Environment;
    config: ClusterConfig;
    /** Apps that get an image repository (ECR creates one per app). */
    appNames: string[];
    /** Protect the cluster, node pools, registries and backup storage; enable cloud deletion protection. */
    protect: boolean;
    /** Days backups live in cloud storage before the bucket lifecycle deletes them. Default 7. */
    backupRetentionDays?: number;
    images: ImageRefs;
    /** Kubernetes group of each team role (`access.groups`). */
    accessGroups: TeamGroups;
    /** Logs are on (observability.logs.enabled): EKS and GKE make a bucket for Loki. */
    logs?: boolean;
    /** Render the manifests to a directory instead of creating a cluster (`npm run render`). */
    render?: RenderMode;
}

export class Cluster extends pulumi.ComponentResource implements ClusterOutputs {
    public readonly provider: k8s.Provider;
    public readonly kubeconfig: pulumi.Output<string>;
    public readonly registry: RegistryInfo;
    public readonly storageClassName: pulumi.Output<string>;
    public readonly topology: ClusterTopology;
    /** API server and node addresses for NetworkPolicies; the Istio platform profile. */
    public readonly network: ClusterNetwork;
    public readonly backupTarget: BackupTarget;
    public readonly logsStorage: LogsStorage;
    public readonly edgeHostPorts?: { http: number; https: number };
    public readonly imagePlatform: string;

    constructor(name: string, args: ClusterArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:cluster:Cluster", name, {}, opts);
        const variantArgs: VariantArgs = {
            environment: args.environment,
            appNames: args.appNames,
            protect: args.protect,
            backupRetentionDays: args.backupRetentionDays ?? 7,
            images: args.images,
            accessGroups: args.accessGroups,
            logs: args.logs ?? false,
            parent: this,
        };
        const out = args.render
            ? createRendered(name, args.config, args.render.directory, variantArgs)
            : createVariant(name, args.config, variantArgs);
        this.provider = out.provider;
        this.kubeconfig = pulumi.secret(out.kubeconfig);
        this.registry = out.registry;
        this.storageClassName = out.storageClassName;
        this.topology = clusterTopology(args.config);
        this.network = clusterNetwork(args.config);
        this.backupTarget = out.backupTarget;
        this.logsStorage = out.logsStorage;
        this.edgeHostPorts = out.edgeHostPorts;
        this.imagePlatform = out.imagePlatform ?? IMAGE_PLATFORM;
        this.registerOutputs({
            kubeconfig: this.kubeconfig,
            registryServer: this.registry.server,
            storageClassName: this.storageClassName,
            backupTarget: this.backupTarget.kind,
            logsStorage: this.logsStorage.kind,
        });
    }
}

function createVariant(name: string, config: ClusterConfig, args: VariantArgs): VariantOutputs {
    const missing = (key: string): never => {
        throw new Error(`orders-platform:cluster.${key} is required when cluster.provider is "${config.provider}"`);
    };
    switch (config.provider) {
        case "kind":
            return createKind(name, config.kind ?? missing("kind"), args);
        case "eks":
            return createEks(name, config.eks ?? missing("eks"), args);
        case "gke":
            return createGke(name, config.gke ?? missing("gke"), args);
        case "existing":
            return createExisting(name, config.existing ?? missing("existing"), args);
    }
}
