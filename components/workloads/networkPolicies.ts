// Default-deny NetworkPolicies plus exactly the allows the traffic graph declares.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TrafficEdge } from "../appGraph";
import type { AppCatalog, Environment } from "../config";
import { APP_NAMESPACE, platformLabels } from "../naming";
import type { AppNamespaces } from "./namespaces";
import { networkPolicySpecs, NetworkPolicyOptions } from "./networkPolicySpec";

export interface NetworkPoliciesArgs {
    environment: Environment;
    graph: TrafficEdge[];
    catalog: AppCatalog;
    meshEnabled: boolean;
    namespaces: Pick<AppNamespaces, "appNamespace" | "dataNamespace">;
    /** Apps export traces to Jaeger (observability.jaeger.enabled). Default: false. */
    tracing?: boolean;
    /** Kind of the cluster's backup target. Default: volume. */
    backupTarget?: NetworkPolicyOptions["backupTarget"];
    walArchiving?: boolean;
    postgresMetrics?: boolean;
}

export class NetworkPolicies extends pulumi.ComponentResource {
    /** namespace/name of every policy. */
    public readonly policyNames: string[];

    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:workloads:NetworkPolicies", name, {}, opts);
        const labels = platformLabels(args.environment, "network-policy");
        const specs = networkPolicySpecs(args.graph, {
            meshEnabled: args.meshEnabled,
            tracing: args.tracing ?? false,
            backupTarget: args.backupTarget ?? "volume",
            walArchiving: args.walArchiving ?? false,
            postgresMetrics: args.postgresMetrics ?? false,
        });
        for (const p of specs) {
            // Referencing the Namespace outputs orders each policy after its namespace.
            const namespace = p.namespace === APP_NAMESPACE ? args.namespaces.appNamespace : args.namespaces.dataNamespace;
            new k8s.networking.v1.NetworkPolicy(
                `${p.namespace}-${p.name}`,
                { metadata: { name: p.name, namespace, labels, annotations: { "orders-platform/reason": p.reason } }, spec: p.spec },
                { parent: this },
            );
        }
        this.policyNames = specs.map((p) => `${p.namespace}/${p.name}`);
        this.registerOutputs({ policyNames: this.policyNames });
    }
}
