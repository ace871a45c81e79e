// Cloud resources: container registries (ECR, Artifact Registry) and managed clusters (EKS, GKE).
import type { ResourceValidationPolicy } from "@pulumi/policy";
import { configWithDefaults, stringList } from "../lib/config";
import { asArray, isObj } from "../lib/k8s";

const ECR_REPOSITORY = "aws:ecr/repository:Repository";
const AR_REPOSITORY = "gcp:artifactregistry/repository:Repository";
const EKS_CLUSTER = "aws:eks/cluster:Cluster";
const EKS_NODE_GROUP = "aws:eks/nodeGroup:NodeGroup";
const LAUNCH_TEMPLATE = "aws:ec2/launchTemplate:LaunchTemplate";
const GKE_CLUSTER = "gcp:container/cluster:Cluster";
const GKE_NODE_POOL = "gcp:container/nodePool:NodePool";

interface RegistryConfig {
    allowedTagMutability: string[];
    checkArtifactRegistry: boolean;
}

const registrySchema = {
    properties: {
        allowedTagMutability: stringList("Accepted ECR imageTagMutability values.", ["IMMUTABLE"]),
        checkArtifactRegistry: {
            type: "boolean" as const,
            default: true,
            description: "Also require immutable tags on Artifact Registry Docker repositories.",
        },
    },
};

export const registryRepositories: ResourceValidationPolicy = {
    name: "registry-immutable-scanned",
    description: "ECR repositories have immutable tags and scan on push; Artifact Registry Docker repositories have immutable tags.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: registrySchema,
    validateResource: (args, report) => {
        if (args.type !== ECR_REPOSITORY && args.type !== AR_REPOSITORY) return;
        const cfg = configWithDefaults<RegistryConfig>(registrySchema, args);
        const p = args.props;
        if (args.type === ECR_REPOSITORY) {
            const label = `ECR repository ${p.name ?? args.name}`;
            const mutability = p.imageTagMutability ?? "MUTABLE";
            if (!cfg.allowedTagMutability.includes(mutability)) {
                report(
                    `${label}: imageTagMutability is ${mutability}${p.imageTagMutability === undefined ? " (the default)" : ""}; set imageTagMutability: "IMMUTABLE" so a pushed version can never change`,
                );
            }
            const scanOnPush = isObj(p.imageScanningConfiguration) ? p.imageScanningConfiguration.scanOnPush : undefined;
            if (scanOnPush !== true) {
                report(
                    `${label}: imageScanningConfiguration.scanOnPush is ${scanOnPush === false ? "false" : "not set"}; set imageScanningConfiguration: { scanOnPush: true }`,
                );
            }
            return;
        }
        if (!cfg.checkArtifactRegistry || p.format !== "DOCKER") return;
        const immutable = isObj(p.dockerConfig) ? p.dockerConfig.immutableTags : undefined;
        if (immutable !== true) {
            report(
                `Artifact Registry repository ${p.repositoryId ?? args.name}: dockerConfig.immutableTags is ${immutable === false ? "false" : "not set"}; set dockerConfig: { immutableTags: true }`,
            );
        }
    },
};

interface EksConfig {
    requiredLogTypes: string[];
    requirePrivateEndpointAccess: boolean;
    maxMetadataHopLimit: number;
    allowOpenApiEndpoint: boolean;
}

/** A CIDR that matches every address of its family (`0.0.0.0/0`, `::/0`, however written). */
export function isWholeInternet(cidr: unknown): boolean {
    return typeof cidr === "string" && /\/0+$/.test(cidr.trim());
}

const openEndpointSchema = {
    type: "boolean" as const,
    default: false,
    description:
        "Allow the Kubernetes API endpoint to be reachable from the whole internet (0.0.0.0/0 or ::/0, or no allowlist at all). Never in staging or prod.",
};

const eksSchema = {
    properties: {
        requiredLogTypes: stringList("Control-plane log types every EKS cluster enables.", ["api", "audit", "authenticator"]),
        requirePrivateEndpointAccess: {
            type: "boolean" as const,
            default: true,
            description: "Require vpcConfig.endpointPrivateAccess so nodes in private subnets reach the API server inside the VPC.",
        },
        allowOpenApiEndpoint: openEndpointSchema,
        maxMetadataHopLimit: {
            type: "integer" as const,
            default: 1,
            minimum: 1,
            description:
                "Highest instance-metadata (IMDSv2) hop limit of node launch templates: 1 keeps pods, one hop away, from the node role's credentials.",
        },
    },
};

export const eksCluster: ResourceValidationPolicy = {
    name: "eks-cluster-hardening",
    description:
        "EKS clusters enable control-plane logging and private endpoint access; managed node groups allow no SSH remote access and use a launch template whose instance metadata needs IMDSv2 tokens within the hop limit.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: eksSchema,
    validateResource: (args, report) => {
        if (args.type !== EKS_CLUSTER && args.type !== EKS_NODE_GROUP && args.type !== LAUNCH_TEMPLATE) return;
        const cfg = configWithDefaults<EksConfig>(eksSchema, args);
        const p = args.props;
        if (args.type === LAUNCH_TEMPLATE) {
            const label = `launch template ${p.name ?? p.namePrefix ?? args.name}`;
            const md = isObj(p.metadataOptions) ? p.metadataOptions : {};
            if (md.httpTokens !== "required") {
                report(`${label}: metadataOptions.httpTokens is ${md.httpTokens ?? "not set"}; set it to "required" (IMDSv2 only)`);
            }
            const hops = typeof md.httpPutResponseHopLimit === "number" ? md.httpPutResponseHopLimit : undefined;
            if (hops === undefined || hops > cfg.maxMetadataHopLimit) {
                report(
                    `${label}: metadataOptions.httpPutResponseHopLimit is ${hops ?? "not set"}; set it to ${cfg.maxMetadataHopLimit} so pods cannot reach the node role's credentials`,
                );
            }
            return;
        }
        if (args.type === EKS_NODE_GROUP) {
            const label = `EKS node group ${p.nodeGroupName ?? args.name}`;
            if (isObj(p.remoteAccess)) {
                report(`${label}: remoteAccess (SSH to the nodes) is set; remove it and use SSM or kubectl debug`);
            }
            if (!isObj(p.launchTemplate)) {
                report(
                    `${label}: no launchTemplate; without one EKS uses its default (instance metadata hop limit 2, reachable from pods); give it a launch template with metadataOptions { httpTokens: "required", httpPutResponseHopLimit: ${cfg.maxMetadataHopLimit} }`,
                );
            }
            return;
        }
        const label = `EKS cluster ${p.name ?? args.name}`;
        const enabled = asArray<string>(p.enabledClusterLogTypes);
        const missing = cfg.requiredLogTypes.filter((t) => !enabled.includes(t));
        if (missing.length > 0) {
            report(`${label}: enabledClusterLogTypes lacks ${missing.join(", ")}; add them so control-plane logs reach CloudWatch`);
        }
        const vpc = isObj(p.vpcConfig) ? p.vpcConfig : {};
        if (!cfg.allowOpenApiEndpoint && vpc.endpointPublicAccess !== false) {
            const cidrs = asArray<string>(vpc.publicAccessCidrs);
            const open = cidrs.filter(isWholeInternet);
            const key = "orders-platform:cluster.eks.endpointPublicAccessCidrs";
            if (cidrs.length === 0) {
                report(
                    `${label}: vpcConfig.endpointPublicAccess is on and vpcConfig.publicAccessCidrs is not set, so EKS opens the API endpoint to 0.0.0.0/0; list the networks that may reach it (${key}) or set endpointPublicAccess: false`,
                );
            } else if (open.length > 0) {
                report(
                    `${label}: vpcConfig.publicAccessCidrs contains ${open.join(", ")}: the Kubernetes API endpoint is open to the whole internet; list only the networks that need it (${key})`,
                );
            }
        }
        if (cfg.requirePrivateEndpointAccess && vpc.endpointPrivateAccess !== true) {
            report(
                `${label}: vpcConfig.endpointPrivateAccess is ${vpc.endpointPrivateAccess === false ? "false" : "not set (defaults to false)"}; set it to true so private nodes reach the API server inside the VPC`,
            );
        }
    },
};

interface GkeConfig {
    requiredLoggingComponents: string[];
    allowOpenApiEndpoint: boolean;
}

const gkeSchema = {
    properties: {
        requiredLoggingComponents: stringList("loggingConfig.enableComponents every GKE cluster includes (when it sets them).", [
            "SYSTEM_COMPONENTS",
            "WORKLOADS",
        ]),
        allowOpenApiEndpoint: openEndpointSchema,
    },
};

export const gkeCluster: ResourceValidationPolicy = {
    name: "gke-cluster-hardening",
    description: "GKE clusters keep Cloud Logging on and use private nodes; node pools do not opt out of private nodes.",
    severity: "high",
    enforcementLevel: "mandatory",
    configSchema: gkeSchema,
    validateResource: (args, report) => {
        if (args.type !== GKE_CLUSTER && args.type !== GKE_NODE_POOL) return;
        const cfg = configWithDefaults<GkeConfig>(gkeSchema, args);
        const p = args.props;
        if (args.type === GKE_NODE_POOL) {
            const net = isObj(p.networkConfig) ? p.networkConfig : {};
            if (net.enablePrivateNodes === false) {
                report(
                    `GKE node pool ${p.name ?? args.name}: networkConfig.enablePrivateNodes is false; remove it so the pool's nodes get no public IPs`,
                );
            }
            return;
        }
        const label = `GKE cluster ${p.name ?? args.name}`;
        if (p.loggingService === "none") {
            report(`${label}: loggingService is "none"; remove it (or set logging.googleapis.com/kubernetes)`);
        }
        const components = isObj(p.loggingConfig) ? asArray<string>(p.loggingConfig.enableComponents) : undefined;
        if (components !== undefined) {
            const missing = cfg.requiredLoggingComponents.filter((c) => !components.includes(c));
            if (missing.length > 0) report(`${label}: loggingConfig.enableComponents lacks ${missing.join(", ")}; add them`);
        }
        const privateEndpoint = isObj(p.privateClusterConfig) && p.privateClusterConfig.enablePrivateEndpoint === true;
        if (!cfg.allowOpenApiEndpoint && !privateEndpoint) {
            const key = "orders-platform:cluster.gke.masterAuthorizedCidrs";
            const man = isObj(p.masterAuthorizedNetworksConfig) ? p.masterAuthorizedNetworksConfig : undefined;
            const blocks = asArray(man?.cidrBlocks).map((b) => (isObj(b) ? b.cidrBlock : undefined));
            const open = blocks.filter(isWholeInternet);
            if (!man || blocks.length === 0) {
                report(
                    `${label}: no masterAuthorizedNetworksConfig.cidrBlocks on a public control-plane endpoint, so it is open to the whole internet; list the networks that may reach it (${key}) or set privateClusterConfig.enablePrivateEndpoint: true`,
                );
            } else if (open.length > 0) {
                report(
                    `${label}: masterAuthorizedNetworksConfig.cidrBlocks contains ${open.join(", ")}: the control plane is open to the whole internet; list only the networks that need it (${key})`,
                );
            }
            if (man?.gcpPublicCidrsAccessEnabled === true) {
                report(
                    `${label}: masterAuthorizedNetworksConfig.gcpPublicCidrsAccessEnabled is true: every Google Cloud public address may reach the control plane; remove it`,
                );
            }
        }
        const priv = isObj(p.privateClusterConfig) ? p.privateClusterConfig.enablePrivateNodes : undefined;
        if (priv !== true) {
            report(
                `${label}: privateClusterConfig.enablePrivateNodes is ${priv === false ? "false" : "not set"}; set privateClusterConfig: { enablePrivateNodes: true } (with Cloud NAT for egress)`,
            );
        }
    },
};
