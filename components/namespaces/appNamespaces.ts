// The namespaces of the apps and of their database.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../config";
import { APP_NAMESPACE, DATA_NAMESPACE, platformLabels, podSecurityLabels } from "../naming";

export interface AppNamespacesArgs {
    environment: Environment;
    /** Label both namespaces for Istio sidecar injection. */
    sidecarInjection: boolean;
    /** Protect the data namespace: deleting it would delete the database volumes with it. */
    protect?: boolean;
}

/**
 * Namespace labels: Pod Security "restricted" enforced, with or without the mesh. Sidecars need
 * no NET_ADMIN: the Istio CNI node agent sets up their traffic redirection.
 */
export function namespaceLabels(environment: string, sidecarInjection: boolean): Record<string, string> {
    return {
        ...platformLabels(environment, "namespace"),
        ...(sidecarInjection ? { "istio-injection": "enabled" } : {}),
        ...podSecurityLabels("restricted"),
    };
}

export class AppNamespaces extends pulumi.ComponentResource {
    /** orders-apps, known only once the Namespace exists (use it to order dependents). */
    public readonly appNamespace: pulumi.Output<string>;
    /** orders-data, likewise. */
    public readonly dataNamespace: pulumi.Output<string>;
    /** orders-apps as a plain string (DNS names built at program time). */
    public readonly appNamespaceName: string = APP_NAMESPACE;
    public readonly dataNamespaceName: string = DATA_NAMESPACE;

    constructor(name: string, args: AppNamespacesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:workloads:AppNamespaces", name, {}, opts);
        const labels = namespaceLabels(args.environment, args.sidecarInjection);
        const apps = new k8s.core.v1.Namespace(APP_NAMESPACE, { metadata: { name: APP_NAMESPACE, labels } }, { parent: this });
        const data = new k8s.core.v1.Namespace(
            DATA_NAMESPACE,
            { metadata: { name: DATA_NAMESPACE, labels } },
            { parent: this, protect: args.protect, retainOnDelete: args.protect },
        );
        this.appNamespace = apps.metadata.name;
        this.dataNamespace = data.metadata.name;
        this.registerOutputs({ appNamespace: this.appNamespace, dataNamespace: this.dataNamespace });
    }
}
