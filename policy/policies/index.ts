// Every policy of the pack. `policy/index.ts` builds the PolicyPack from this list; tests and
// the program's own tests import it directly (constructing a PolicyPack would start its server).
import type { EnforcementLevel, Policies, ResourceValidationPolicy, StackValidationPolicy } from "@pulumi/policy";
import { eksCluster, gkeCluster, registryRepositories } from "./cloud";
import { edgeTls } from "./edgeTls";
import { noLatestImage } from "./images";
import { nonRoot } from "./nonRoot";
import { secretsRbac } from "./rbac";
import { probes } from "./probes";
import { resourceLimits } from "./resources";
import { dropCapabilities, noHostAccess, noPrivilegeEscalation, noPrivileged, readOnlyRootFilesystem, seccomp } from "./securityContext";
import { loadBalancerEdgeOnly } from "./services";
import { istioMtlsStrict, namespaceDefaultDeny, pdbForReplicated } from "./stack";

export {
    dropCapabilities,
    edgeTls,
    eksCluster,
    gkeCluster,
    istioMtlsStrict,
    loadBalancerEdgeOnly,
    namespaceDefaultDeny,
    noHostAccess,
    noLatestImage,
    nonRoot,
    noPrivilegeEscalation,
    noPrivileged,
    pdbForReplicated,
    probes,
    readOnlyRootFilesystem,
    registryRepositories,
    resourceLimits,
    seccomp,
    secretsRbac,
};

/** Default for policies that do not set their own level; config files override both. */
export const PACK_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

/**
 * The workload rules: every pod-bearing kind, checked per container. The in-cluster admission
 * policies (policy/admission) mirror exactly these; a test keeps the two lists equal.
 */
export const workloadPolicies: ResourceValidationPolicy[] = [
    nonRoot,
    noLatestImage,
    probes,
    resourceLimits,
    noPrivilegeEscalation,
    dropCapabilities,
    noPrivileged,
    noHostAccess,
    seccomp,
    readOnlyRootFilesystem,
];

export const resourcePolicies: ResourceValidationPolicy[] = [
    ...workloadPolicies,
    loadBalancerEdgeOnly,
    edgeTls,
    registryRepositories,
    eksCluster,
    gkeCluster,
];

export const stackPolicies: StackValidationPolicy[] = [pdbForReplicated, namespaceDefaultDeny, istioMtlsStrict, secretsRbac];

export const allPolicies: Policies = [...resourcePolicies, ...stackPolicies];
