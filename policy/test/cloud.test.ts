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
            vpcConfig: { endpointPrivateAccess: true, endpointPublicAccess: true, publicAccessCidrs: ["203.0.113.0/24"] },
        });
        assert.deepEqual(await violations(eksCluster, f), []);
    });
    it("fails missing log types and private access", async () => {
        const v = await violations(eksCluster, cluster({ enabledClusterLogTypes: ["api"], vpcConfig: { endpointPublicAccess: false } }));
        assert.equal(v.length, 2);
        assert.match(v[0], /enabledClusterLogTypes lacks audit, authenticator/);
        assert.match(v[1], /endpointPrivateAccess is not set/);
    });
    it("refuses an API endpoint open to the whole internet (0.0.0.0/0, ::/0, or no allowlist), naming the stack config key", async () => {
        const logs = ["api", "audit", "authenticator"];
        const at = (vpcConfig: Record<string, unknown>) =>
            violations(eksCluster, cluster({ enabledClusterLogTypes: logs, vpcConfig: { endpointPrivateAccess: true, ...vpcConfig } }));
        for (const open of [["0.0.0.0/0"], ["203.0.113.0/24", "::/0"], ["0.0.0.0/00"]]) {
            const v = await at({ endpointPublicAccess: true, publicAccessCidrs: open });
            assert.equal(v.length, 1, open.join());
            assert.match(
                v[0],
                /vpcConfig\.publicAccessCidrs contains (0\.0\.0\.0\/0|::\/0|0\.0\.0\.0\/00): the Kubernetes API endpoint is open to the whole internet/,
            );
            assert.match(v[0], /orders-platform:cluster\.eks\.endpointPublicAccessCidrs/);
        }
        assert.match((await at({}))[0], /publicAccessCidrs is not set, so EKS opens the API endpoint to 0\.0\.0\.0\/0/);
        assert.deepEqual(await at({ endpointPublicAccess: false }), [], "a private endpoint needs no allowlist");
        assert.deepEqual(await at({ publicAccessCidrs: ["198.51.100.0/24", "2001:db8::/32"] }), []);
        assert.deepEqual(
            await violations(eksCluster, cluster({ enabledClusterLogTypes: logs, vpcConfig: { endpointPrivateAccess: true } }), {
                allowOpenApiEndpoint: true,
            }),
            [],
        );
    });
    it("fails node groups with SSH remote access", async () => {
        const ng = { type: "aws:eks/nodeGroup:NodeGroup", name: "ng", props: { nodeGroupName: "apps", remoteAccess: { ec2SshKey: "k" } } };
        const launchTemplate = { id: "lt-1", version: "1" };
        assert.match(
            (await violations(eksCluster, { ...ng, props: { ...ng.props, launchTemplate } }))[0],
            /^EKS node group apps: remoteAccess/,
        );
        assert.deepEqual(await violations(eksCluster, { ...ng, props: { nodeGroupName: "apps", launchTemplate } }), []);
    });
    it("fails node groups without a launch template (EKS's default allows 2 metadata hops)", async () => {
        const v = await violations(eksCluster, { type: "aws:eks/nodeGroup:NodeGroup", name: "ng", props: { nodeGroupName: "apps" } });
        assert.equal(v.length, 1);
        assert.match(v[0], /^EKS node group apps: no launchTemplate/);
    });
    it("requires IMDSv2 and a metadata hop limit of 1 in launch templates", async () => {
        const lt = (metadataOptions?: Record<string, unknown>) => ({
            type: "aws:ec2/launchTemplate:LaunchTemplate",
            name: "nodes",
            props: { ...(metadataOptions ? { metadataOptions } : {}) },
        });
        assert.deepEqual(await violations(eksCluster, lt({ httpTokens: "required", httpPutResponseHopLimit: 1 })), []);
        assert.deepEqual(await violations(eksCluster, lt({ httpTokens: "optional", httpPutResponseHopLimit: 2 })), [
            'launch template nodes: metadataOptions.httpTokens is optional; set it to "required" (IMDSv2 only)',
            "launch template nodes: metadataOptions.httpPutResponseHopLimit is 2; set it to 1 so pods cannot reach the node role's credentials",
        ]);
        assert.equal((await violations(eksCluster, lt())).length, 2);
        assert.deepEqual(
            await violations(eksCluster, lt({ httpTokens: "required", httpPutResponseHopLimit: 2 }), { maxMetadataHopLimit: 2 }),
            [],
        );
    });
});

describe("gke-cluster-hardening", () => {
    const cluster = (props: Record<string, unknown>) => ({
        type: "gcp:container/cluster:Cluster",
        name: "cluster",
        props: { name: "orders", ...props },
    });
    it("passes private nodes with default logging", async () => {
        const man = { cidrBlocks: [{ cidrBlock: "198.51.100.0/24" }] };
        assert.deepEqual(
            await violations(
                gkeCluster,
                cluster({
                    privateClusterConfig: { enablePrivateNodes: true, enablePrivateEndpoint: false },
                    masterAuthorizedNetworksConfig: man,
                }),
            ),
            [],
        );
        assert.deepEqual(
            await violations(
                gkeCluster,
                cluster({
                    privateClusterConfig: { enablePrivateNodes: true },
                    masterAuthorizedNetworksConfig: man,
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
        assert.equal(v.length, 4);
        assert.match(v[0], /loggingService is "none"/);
        assert.match(v[1], /enableComponents lacks WORKLOADS/);
        assert.match(v[2], /no masterAuthorizedNetworksConfig\.cidrBlocks on a public control-plane endpoint/);
        assert.match(v[3], /privateClusterConfig\.enablePrivateNodes is not set/);
    });
    it("refuses master authorized networks open to the whole internet, naming the stack config key", async () => {
        const at = (man: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
            violations(
                gkeCluster,
                cluster({ privateClusterConfig: { enablePrivateNodes: true, ...extra }, masterAuthorizedNetworksConfig: man }),
            );
        for (const cidrBlock of ["0.0.0.0/0", "::/0"]) {
            const v = await at({ cidrBlocks: [{ cidrBlock: "198.51.100.0/24" }, { cidrBlock }] });
            assert.equal(v.length, 1);
            assert.match(
                v[0],
                new RegExp(`cidrBlocks contains ${cidrBlock.replace(/[./]/g, "\\$&")}: the control plane is open to the whole internet`),
            );
            assert.match(v[0], /orders-platform:cluster\.gke\.masterAuthorizedCidrs/);
        }
        assert.match(
            (await at({ cidrBlocks: [{ cidrBlock: "198.51.100.0/24" }], gcpPublicCidrsAccessEnabled: true }))[0],
            /gcpPublicCidrsAccessEnabled is true/,
        );
        assert.deepEqual(await at({}, { enablePrivateEndpoint: true }), [], "a private endpoint needs no allowlist");
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
