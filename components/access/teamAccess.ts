// Team access in the cluster: the role definitions and their bindings to the configured groups.
// How people come to carry those groups is the cluster's business: EKS access entries, Google
// groups on GKE, client certificates on kind (scripts/kind-role-kubeconfig.ts).
import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import type { Environment } from "../config";
import { APP_NAMESPACE, DATA_NAMESPACE } from "../naming";
import { TEAM_ROLES, teamClusterRole, teamRoleBinding, type TeamGroups } from "./roleSpec";

export interface TeamAccessArgs {
    environment: Environment;
    groups: TeamGroups;
    /** The app and data namespaces as created, so the bindings wait for them. */
    namespaces: { app: pulumi.Input<string>; data: pulumi.Input<string> };
}

export class TeamAccess extends pulumi.ComponentResource {
    constructor(name: string, args: TeamAccessArgs, opts?: pulumi.ComponentResourceOptions) {
        super("orders-platform:access:TeamAccess", name, {}, opts);
        const namespaces: Record<string, pulumi.Input<string>> = {
            [APP_NAMESPACE]: args.namespaces.app,
            [DATA_NAMESPACE]: args.namespaces.data,
        };
        for (const role of TEAM_ROLES) {
            const clusterRole = new k8s.rbac.v1.ClusterRole(`${name}-${role}`, teamClusterRole(role, args.environment), { parent: this });
            const binding = teamRoleBinding(role, args.groups, args.environment);
            new k8s.rbac.v1.RoleBinding(
                `${name}-${role}`,
                {
                    ...binding,
                    metadata: { ...binding.metadata, namespace: namespaces[binding.metadata.namespace] },
                    roleRef: { ...binding.roleRef, name: clusterRole.metadata.name },
                },
                { parent: this },
            );
        }
        this.registerOutputs({});
    }
}
