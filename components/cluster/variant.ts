// What the Cluster component hands each provider variant, and what a variant returns.
import type * as pulumi from "@pulumi/pulumi";
import type { TeamGroups } from "../access/roleSpec";
import type { ImageRefs } from "../config";
import type { ClusterOutputs } from "./types";

export interface VariantArgs {
    environment: string;
    appNames: string[];
    protect: boolean;
    /** Days a backup the uploader deleted stays recoverable as a noncurrent version (bucket lifecycle). */
    backupRetentionDays: number;
    /** Pinned third-party images (kind's node and registry images). */
    images: ImageRefs;
    /** Logs are on: the cloud variants make Loki's bucket and identity. */
    logs: boolean;
    /** Kubernetes group of each team role (EKS maps IAM principals to them). */
    accessGroups: TeamGroups;
    /** Parent of every resource the variant creates. */
    parent: pulumi.Resource;
}

/** Topology is derived from config by the Cluster itself (plain booleans), the rest by the variant. */
export type VariantOutputs = Omit<ClusterOutputs, "topology">;

/** Labels/tags every cloud resource carries (keys valid for AWS tags and GCP labels alike). */
export function cloudLabels(environment: string): Record<string, string> {
    return { "part-of": "orders-platform", environment, "managed-by": "pulumi" };
}
