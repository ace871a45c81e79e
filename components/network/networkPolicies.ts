// Default-deny NetworkPolicies plus exactly the allows the traffic graph and the platform need,
// in every namespace the program owns.
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { TrafficEdge } from "./appGraph";
import type { AppCatalog, Environment } from "../config";
import { platformLabels } from "../naming";
import { managedNamespaces, networkPolicySpecs, NetworkPolicyOptions } from "./networkPolicySpec";

export interface NetworkPoliciesArgs extends NetworkPolicyOptions {
    environment: Environment;
    graph: TrafficEdge[];
    catalog: AppCatalog;
    /**
     * Every managed namespace by name, as the Output of the Namespace that creates it (so each
     * policy is created after its namespace).
     */
    namespaces: Record<string, pulumi.Input<string>>;
}

export class NetworkPolicies extends pulumi.ComponentResource {
    /** namespace/name of every policy. */
    public readonly policyNames: string[];

    constructor(name: string, args: NetworkPoliciesArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:workloads:NetworkPolicies", name, {}, opts);
        const labels = platformLabels(args.environment, "network-policy");
        const missing = managedNamespaces(args).filter((ns) => !(ns in args.namespaces));
        if (missing.length > 0) throw new Error(`NetworkPolicies: no Namespace given for ${missing.join(", ")}`);
        const specs = networkPolicySpecs(args.graph, args);
        for (const p of specs) {
            new k8s.networking.v1.NetworkPolicy(
                `${p.namespace}-${p.name}`,
                {
                    metadata: {
                        name: p.name,
                        namespace: args.namespaces[p.namespace],
                        labels,
                        annotations: { "orders-platform/reason": p.reason },
                    },
                    spec: p.spec,
                },
                { parent: this },
            );
        }
        this.policyNames = specs.map((p) => `${p.namespace}/${p.name}`);
        this.registerOutputs({ policyNames: this.policyNames });
    }
}
