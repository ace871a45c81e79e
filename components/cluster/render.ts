// Render mode (`npm run render`): a Kubernetes provider that writes every object's manifest to a
// directory (the provider's renderYamlToDirectory) for Argo CD or Flux to apply. No cluster, no
// cloud resource and no registry is created; what the cloud variants would have made stays with a
// real `pulumi up` of the stack.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ClusterConfig } from "../config";
import { GP3_STORAGE_CLASS, gp3StorageClass } from "./eksSpec";
import { GKE_STORAGE_CLASS } from "./gkeSpec";
import { KIND_STORAGE_CLASS } from "./kindSpec";
import type { VariantArgs, VariantOutputs } from "./variant";

/** The StorageClass volumes use in the rendered manifests: the one the variant would provide. */
export function renderedStorageClass(config: ClusterConfig): string {
    switch (config.provider) {
        case "kind":
            return KIND_STORAGE_CLASS;
        case "eks":
            return GP3_STORAGE_CLASS;
        case "gke":
            return GKE_STORAGE_CLASS;
        case "existing":
            return config.existing!.storageClass;
    }
}

/** What a render leaves out compared with `pulumi up` on this provider (said once, as a warning). */
export function renderWarning(config: ClusterConfig): string | undefined {
    if (config.provider !== "eks" && config.provider !== "gke") return undefined;
    const store = config.provider === "eks" ? "S3 through IRSA" : "GCS through Workload Identity";
    return (
        `render mode: no ${config.provider.toUpperCase()} resources are created (cluster, node pools, registry, buckets, IAM); ` +
        `backups and logs go to volumes in the rendered manifests instead of ${store}. Run \`pulumi up\` of the stack for those.`
    );
}

export function createRendered(name: string, config: ClusterConfig, directory: string, args: VariantArgs): VariantOutputs {
    const { parent } = args;
    // alwaysRender: every run rewrites every manifest, so the directory is complete after each render.
    const provider = new k8s.Provider(`${name}-render`, { renderYamlToDirectory: directory, alwaysRender: true }, { parent });
    const warning = renderWarning(config);
    if (warning) void pulumi.log.warn(warning, parent);
    // The EKS variant's default StorageClass is a Kubernetes object too.
    if (config.provider === "eks") {
        new k8s.storage.v1.StorageClass(`${name}-gp3`, gp3StorageClass({ reclaimPolicy: args.protect ? "Retain" : "Delete" }), {
            parent,
            provider,
        });
    }
    const nothingBuilt = (app: string): never => {
        throw new Error(`render mode builds and looks up no image: set orders-platform:apps.${app}.image to a digest-pinned reference`);
    };
    return {
        provider,
        kubeconfig: pulumi.output(""),
        registry: { server: pulumi.output(""), repository: nothingBuilt },
        storageClassName: pulumi.output(renderedStorageClass(config)),
        backupTarget: { kind: "volume" },
        logsStorage: { kind: "volume" },
        edgeHostPorts: config.provider === "kind" ? { http: config.kind!.httpPort, https: config.kind!.httpsPort } : undefined,
    };
}
