import { strict as assert } from "node:assert";
import { eksCluster, gkeCluster, registryRepositories } from "../policies";
import { violations } from "./helpers";

describe("registry-immutable-scanned", () => {
    const ecr = (props: Record<string, unknown>) => ({
        type: "aws:ecr/repository:Repository",
        name: "users",
        props: { name: "orders-platform/users", ...props },
    });
    it("passes an immutable, scanned ECR repository", async () => {
        assert.deepEqual(
            await violations(
                registryRepositories,
                ecr({ imageTagMutability: "IMMUTABLE", imageScanningConfiguration: { scanOnPush: true } }),
            ),
            [],
        );
    });
    it("fails the defaults (mutable, no scan)", async () => {
        assert.deepEqual(await violations(registryRepositories, ecr({})), [
            'ECR repository orders-platform/users: imageTagMutability is MUTABLE (the default); set imageTagMutability: "IMMUTABLE" so a pushed version can never change',
            "ECR repository orders-platform/users: imageScanningConfiguration.scanOnPush is not set; set imageScanningConfiguration: { scanOnPush: true }",
        ]);
    });
    it("checks Artifact Registry Docker repositories", async () => {
        const ar = (dockerConfig?: unknown) => ({
            type: "gcp:artifactregistry/repository:Repository",
            name: "apps",
            props: { repositoryId: "orders", format: "DOCKER", ...(dockerConfig ? { dockerConfig } : {}) },
        });
        assert.deepEqual(await violations(registryRepositories, ar({ immutableTags: true })), []);
        assert.match((await violations(registryRepositories, ar()))[0], /dockerConfig\.immutableTags is not set/);
        assert.deepEqual(await violations(registryRepositories, ar(), { checkArtifactRegistry: false }), []);
    });
});

describe("eks-cluster-hardening", () => {
    const cluster = (props: Record<string, unknown>) => ({
        type: "aws:eks/cluster:Cluster",
        name: "cluster",
        props: { name: "orders-prod", ...props },
    });
    it("passes logging and private endpoint access", async () => {
        const f = cluster({
            enabledClusterLogTypes: ["api", "audit", "authenticator", "scheduler"],
            vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: true },
        });
        assert.deepEqual(await violations(eksCluster, f), []);
    });
    it("fails missing log types and private access", async () => {
        const v = await violations(eksCluster, cluster({ enabledClusterLogTypes: ["api"], vpcConfig: {} }));
        assert.equal(v.length, 2);
        assert.match(v[0], /enabledClusterLogTypes lacks audit, authenticator/);
        assert.match(v[1], /endpointPrivateAccess is not set/);
    });
    it("fails node groups with SSH remote access", async () => {
        const ng = { type: "aws:eks/nodeGroup:NodeGroup", name: "ng", props: { nodeGroupName: "apps", remoteAccess: { ec2SshKey: "k" } } };
        assert.match((await violations(eksCluster, ng))[0], /^EKS node group apps: remoteAccess/);
        assert.deepEqual(await violations(eksCluster, { ...ng, props: { nodeGroupName: "apps" } }), []);
    });
});

describe("gke-cluster-hardening", () => {
    const cluster = (props: Record<string, unknown>) => ({
        type: "gcp:container/cluster:Cluster",
        name: "cluster",
        props: { name: "orders", ...props },
    });
    it("passes private nodes with default logging", async () => {
        assert.deepEqual(
            await violations(gkeCluster, cluster({ privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false } })),
            [],
        );
        assert.deepEqual(
            await violations(
                gkeCluster,
                cluster({
                    privateClusterConfig: { enablePrivateNodes: true },
                    loggingConfig: { enableComponents: ["SYSTEM_COMPONENTS", "WORKLOADS"] },
                }),
            ),
            [],
        );
    });
    it("fails public nodes and disabled logging", async () => {
        const v = await violations(
            gkeCluster,
            cluster({ loggingService: "none", loggingConfig: { enableComponents: ["SYSTEM_COMPONENTS"] } }),
        );
        assert.equal(v.length, 3);
        assert.match(v[0], /loggingService is "none"/);
        assert.match(v[1], /enableComponents lacks WORKLOADS/);
        assert.match(v[2], /privateClusterConfig\.enablePrivateNodes is not set/);
    });
    it("fails node pools that opt out of private nodes", async () => {
        const np = {
            type: "gcp:container/nodePool:NodePool",
            name: "np",
            props: { name: "apps", networkConfig: { enablePrivateNodes: false } },
        };
        assert.equal((await violations(gkeCluster, np)).length, 1);
    });
});
