// Defaults that differ by environment. Stack config always wins; these only fill gaps, so the
// code never branches on the stack name.
import type { Environment } from "./schema";

export const ENVIRONMENT_DEFAULTS: Record<Environment, Record<string, unknown>> = {
    dev: {
        protect: false,
        // No identity provider on a laptop: the program creates the signing key (npm run token mints tokens).
        auth: { localIssuer: true },
        mesh: { tracingSamplePercent: 100, gateway: { serviceType: "NodePort" } },
        database: { storage: { size: "1Gi" }, maxConnections: 50, backup: { retentionDays: 3, volumeSize: "1Gi" } },
        observability: { prometheus: { retention: "2d", storageSize: "2Gi" }, logs: { retention: "3d", storageSize: "2Gi" } },
    },
    staging: {
        protect: false,
        mesh: { tracingSamplePercent: 10, mtlsMode: "STRICT" },
        database: { maxConnections: 100, backup: { retentionDays: 7 } },
        observability: { prometheus: { retention: "7d" }, alerting: { requireReceiver: true }, logs: { retention: "7d" } },
    },
    prod: {
        protect: true,
        mesh: { tracingSamplePercent: 1, mtlsMode: "STRICT" },
        database: {
            maxConnections: 200,
            backup: { retentionDays: 30, keepLast: 7 },
            // Point-in-time recovery: RPO of minutes instead of the backup interval.
            walArchiving: { enabled: true },
        },
        observability: {
            prometheus: { retention: "30d", storageSize: "50Gi" },
            alerting: { requireReceiver: true },
            logs: { retention: "30d", storageSize: "20Gi" },
        },
    },
};

/** A key a stack must set itself: no default may stand in for it in that environment. */
export interface RequiredKey {
    path: string[];
    /** Why it has no default (shown in the error). */
    reason: string;
    /** Only required when the stack configures this block (e.g. cluster.eks on EKS stacks). */
    onlyWith?: string[];
}

const SHARED_ENVIRONMENT_REQUIRED: RequiredKey[] = [
    { path: ["auth", "issuer"], reason: "every /api request is verified against the stack's identity provider" },
    { path: ["auth", "audiences"], reason: "tokens must be issued for this platform" },
    {
        path: ["cluster", "eks", "endpointPublicAccessCidrs"],
        onlyWith: ["cluster", "eks"],
        reason: "without it the Kubernetes API endpoint is open to 0.0.0.0/0",
    },
    {
        path: ["cluster", "gke", "masterAuthorizedCidrs"],
        onlyWith: ["cluster", "gke"],
        reason: "without it the Kubernetes control plane is open to 0.0.0.0/0",
    },
];

/** Keys each environment's stacks must set explicitly (checked before defaults are applied). */
export const ENVIRONMENT_REQUIRED: Record<Environment, RequiredKey[]> = {
    dev: [],
    staging: SHARED_ENVIRONMENT_REQUIRED,
    prod: SHARED_ENVIRONMENT_REQUIRED,
};
