// Pure builders for the GKE variant: names, Workload Identity members, registry paths.

/** Secondary ranges of the subnet (VPC-native: pods and Services get VPC addresses). */
export const PODS_RANGE = "pods";
export const SERVICES_RANGE = "services";

/**
 * GKE's built-in default StorageClass: pd-balanced, WaitForFirstConsumer, volume expansion,
 * encrypted at rest by Google. Used as is rather than shipping a duplicate class.
 */
export const GKE_STORAGE_CLASS = "standard-rwo";

/** Project roles of the node service account: exactly Google's minimal node role. */
export const NODE_SERVICE_ACCOUNT_ROLES = ["roles/container.defaultNodeServiceAccount"] as const;

export function gkeClusterName(environment: string): string {
    return `orders-${environment}`;
}

export function workloadPool(project: string): string {
    return `${project}.svc.id.goog`;
}

/** IAM member of a Kubernetes ServiceAccount under Workload Identity. */
export function workloadIdentityMember(project: string, sa: { namespace: string; name: string }): string {
    return `serviceAccount:${workloadPool(project)}[${sa.namespace}/${sa.name}]`;
}

export function artifactRegistryHost(region: string): string {
    return `${region}-docker.pkg.dev`;
}

export function artifactRepositoryId(environment: string): string {
    return `orders-${environment}`;
}

/** Image repository of an app: `<region>-docker.pkg.dev/<project>/<repository>/<app>`. */
export function artifactImageRepository(region: string, project: string, repositoryId: string, app: string): string {
    return `${artifactRegistryHost(region)}/${project}/${repositoryId}/${app}`;
}

/** Service account ids are 6..30 chars, lowercase, start with a letter. */
export function serviceAccountId(environment: string, purpose: string): string {
    return `orders-${environment}-${purpose}`.slice(0, 30).replace(/-+$/, "");
}
