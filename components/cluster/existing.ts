// Existing cluster: deploy into a kubeconfig context; the program creates no cluster resources.
import * as fs from "node:fs";
import * as os from "node:os";
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { ExistingClusterConfig } from "../config";
import { kubeconfigPath, registryRepository, registryServer } from "./existingSpec";
import type { VariantArgs, VariantOutputs } from "./variant";

export function createExisting(name: string, cfg: ExistingClusterConfig, args: VariantArgs): VariantOutputs {
    const file = kubeconfigPath(cfg.kubeconfigPath, process.env, os.homedir());
    if (cfg.kubeconfigPath && !fs.existsSync(file)) {
        throw new Error(`orders-platform:cluster.existing.kubeconfigPath: ${file} does not exist`);
    }
    // Without a file the provider falls back to its own defaults (in-cluster config, $KUBECONFIG).
    const contents = fs.existsSync(file) ? fs.readFileSync(file, "utf8") : undefined;
    const kubeconfig = pulumi.secret(contents ?? "");
    const provider = new k8s.Provider(
        `${name}-k8s`,
        { context: cfg.context, ...(contents ? { kubeconfig } : {}) },
        { parent: args.parent },
    );
    return {
        provider,
        kubeconfig,
        registry: {
            server: pulumi.output(registryServer(cfg.registry)),
            repository: (app) => pulumi.output(registryRepository(cfg.registry, app)),
            // Pushes use the deployer's own `docker login`; nothing is read from config.
            credentials: undefined,
        },
        storageClassName: pulumi.output(cfg.storageClass),
        backupTarget: { kind: "volume" },
        logsStorage: { kind: "volume" },
    };
}
