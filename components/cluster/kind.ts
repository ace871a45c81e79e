// kind variant: the cluster (kind CLI) and a local registry container wired into containerd,
// so images pushed to localhost:<registryPort> are pullable by the nodes under the same name.
import * as command from "@pulumi/command";
import * as docker from "@pulumi/docker";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { KindConfig } from "../config";
import {
    KIND_NETWORK,
    KIND_STORAGE_CLASS,
    kindClusterConfigDocument,
    kindClusterName,
    kindCreateCommand,
    kindDeleteCommand,
    localRegistryHost,
    localRegistryHostingConfigMap,
    REGISTRY_CONTAINER_PORT,
    registryContainerName,
    registryHostsScript,
    hostImagePlatform,
} from "./kindSpec";
import type { VariantArgs, VariantOutputs } from "./variant";

export function createKind(name: string, cfg: KindConfig, args: VariantArgs): VariantOutputs {
    const { parent } = args;
    const clusterName = kindClusterName(args.environment, cfg);
    const clusterConfig = kindClusterConfigDocument(clusterName, cfg, args.images.kindNode);

    const cluster = new command.local.Command(
        `${name}-kind`,
        {
            create: kindCreateCommand(clusterName),
            delete: kindDeleteCommand(clusterName),
            stdin: clusterConfig,
            // Any change of the cluster config recreates the cluster (kind cannot update one).
            triggers: [clusterConfig],
        },
        { parent, additionalSecretOutputs: ["stdout"], deleteBeforeReplace: true },
    );

    const registryImage = new docker.RemoteImage(`${name}-registry-image`, { name: args.images.registry, keepLocally: true }, { parent });
    const registry = new docker.Container(
        `${name}-registry`,
        {
            name: registryContainerName(clusterName),
            image: registryImage.imageId,
            restart: "always",
            ports: [{ internal: REGISTRY_CONTAINER_PORT, external: cfg.registryPort, ip: "127.0.0.1" }],
            // The nodes resolve the registry by container name on kind's network (created by `kind create`).
            networksAdvanced: [{ name: KIND_NETWORK }],
        },
        { parent, dependsOn: [cluster] },
    );

    const script = registryHostsScript(clusterName, cfg);
    const registryHosts = new command.local.Command(
        `${name}-registry-hosts`,
        { create: script, interpreter: ["/bin/bash", "-c"], triggers: [cluster.id, registry.id, script] },
        { parent, dependsOn: [cluster, registry] },
    );

    const kubeconfig = pulumi.secret(cluster.stdout);
    const provider = new k8s.Provider(`${name}-k8s`, { kubeconfig }, { parent, dependsOn: [registryHosts] });
    new k8s.core.v1.ConfigMap(`${name}-local-registry-hosting`, localRegistryHostingConfigMap(cfg), { parent, provider });

    const host = localRegistryHost(cfg);
    return {
        provider,
        kubeconfig,
        registry: {
            // Derived from the container (and the containerd wiring) so pushes wait for both.
            server: pulumi.all([registry.id, registryHosts.id]).apply(() => host),
            repository: (app) => pulumi.all([registry.id, registryHosts.id]).apply(() => `${host}/${app}`),
            credentials: undefined,
            plainHttp: true,
        },
        storageClassName: pulumi.output(KIND_STORAGE_CLASS),
        backupTarget: { kind: "volume" },
        logsStorage: { kind: "volume" },
        edgeHostPorts: { http: cfg.httpPort, https: cfg.httpsPort },
        // kind nodes are containers on this machine: an Apple Silicon laptop runs arm64 nodes.
        imagePlatform: hostImagePlatform(),
    };
}
