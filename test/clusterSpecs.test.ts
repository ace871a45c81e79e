// Pure cluster helpers: no mocks, no Pulumi runtime.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { clusterSchema, imagesSchema } from "../components/config";
import {
    objectReadWritePolicy,
    CLUSTER_ROLE_POLICIES,
    ecrLifecyclePolicy,
    gp3StorageClass,
    irsaAssumeRolePolicy,
    NODE_ROLE_POLICIES,
    subnetLayout,
    subnetOf,
} from "../components/cluster/eksSpec";
import { kubeconfigPath, registryRepository, registryServer } from "../components/cluster/existingSpec";
import { artifactImageRepository, serviceAccountId, workloadIdentityMember } from "../components/cluster/gkeSpec";
import {
    hostImagePlatform,
    kindClusterConfig,
    kindClusterConfigDocument,
    kindCreateCommand,
    localRegistryHostingConfigMap,
    registryHostsScript,
    registryHostsToml,
} from "../components/cluster/kindSpec";
import { eksKubeconfig, gkeKubeconfig } from "../components/cluster/kubeconfigSpec";
import { clusterTopology } from "../components/cluster/topology";
import { EDGE_NODE_PORTS } from "../components/cluster/types";

const kindDefaults = clusterSchema.parse({ provider: "kind" }).kind!;
const NODE_IMAGE = imagesSchema.parse({}).kindNode;

function cidrRange(cidr: string): [number, number] {
    const [ip, bits] = cidr.split("/");
    const n = ip.split(".").reduce((a, p) => a * 256 + Number(p), 0);
    return [n, n + 2 ** (32 - Number(bits)) - 1];
}

describe("cluster specs: kind", () => {
    it("publishes the edge NodePorts on the configured host ports, on the control plane only", () => {
        const cfg = { ...kindDefaults, httpPort: 8080, httpsPort: 8443, workers: 2 };
        const doc = kindClusterConfig("orders-dev", cfg, NODE_IMAGE);
        assert.equal(doc.nodes.length, 3);
        assert.deepEqual(
            doc.nodes.map((n) => n.role),
            ["control-plane", "worker", "worker"],
        );
        assert.ok(doc.nodes.every((n) => n.image === NODE_IMAGE));
        assert.match(NODE_IMAGE, /^docker\.io\/kindest\/node:v\d+\.\d+\.\d+@sha256:[0-9a-f]{64}$/, "pinned by the kind release's digest");
        assert.deepEqual(doc.nodes[0].extraPortMappings, [
            { containerPort: EDGE_NODE_PORTS.http, hostPort: 8080, listenAddress: "127.0.0.1", protocol: "TCP" },
            { containerPort: EDGE_NODE_PORTS.https, hostPort: 8443, listenAddress: "127.0.0.1", protocol: "TCP" },
        ]);
        assert.equal(doc.nodes[1].extraPortMappings, undefined);
        assert.deepEqual(EDGE_NODE_PORTS, { http: 30080, https: 30443 });
    });

    it("points containerd at certs.d and maps localhost:<port> to the registry container", () => {
        const doc = JSON.parse(kindClusterConfigDocument("orders-dev", kindDefaults, NODE_IMAGE));
        assert.equal(doc.apiVersion, "kind.x-k8s.io/v1alpha4");
        assert.match(doc.containerdConfigPatches[0], /config_path = "\/etc\/containerd\/certs\.d"/);
        assert.equal(registryHostsToml("orders-dev-registry"), '[host."http://orders-dev-registry:5000"]\n');
        const script = registryHostsScript("orders-dev", { ...kindDefaults, registryPort: 5001 });
        assert.match(script, /kind get nodes --name orders-dev/);
        assert.match(script, /\/etc\/containerd\/certs\.d\/localhost:5001\/hosts\.toml/);
        assert.match(script, /http:\/\/orders-dev-registry:5000/);
        const cm = localRegistryHostingConfigMap({ ...kindDefaults, registryPort: 5001 });
        assert.deepEqual(cm.metadata, { name: "local-registry-hosting", namespace: "kube-public" });
        assert.match(cm.data["localRegistryHosting.v1"], /host: "localhost:5001"/);
    });

    it("builds images for the architecture of this machine (kind nodes are local containers)", () => {
        assert.equal(hostImagePlatform("arm64"), "linux/arm64");
        assert.equal(hostImagePlatform("x64"), "linux/amd64");
    });

    it("creates the cluster from stdin and prints only the kubeconfig on stdout", () => {
        const cmd = kindCreateCommand("orders-dev");
        assert.match(cmd, /^kind create cluster --name orders-dev --config - .*1>&2 && kind get kubeconfig --name orders-dev$/);
    });
});

describe("cluster specs: EKS", () => {
    it("cuts non-overlapping private and public subnets, one each per AZ", () => {
        for (const azCount of [2, 3, 6]) {
            const layout = subnetLayout("10.20.0.0/16", azCount);
            assert.equal(layout.private.length, azCount);
            assert.equal(layout.public.length, azCount);
            const all = [...layout.private, ...layout.public].map(cidrRange).sort((a, b) => a[0] - b[0]);
            for (let i = 1; i < all.length; i++) assert.ok(all[i][0] > all[i - 1][1], "subnets overlap");
            const vpc = cidrRange("10.20.0.0/16");
            assert.ok(all.every(([lo, hi]) => lo >= vpc[0] && hi <= vpc[1]));
        }
        assert.deepEqual(subnetLayout("10.0.0.0/16", 2), {
            private: ["10.0.0.0/19", "10.0.32.0/19"],
            public: ["10.0.224.0/22", "10.0.228.0/22"],
        });
        assert.equal(subnetOf("10.0.0.0/16", 24, 255), "10.0.255.0/24");
        assert.throws(() => subnetOf("10.0.0.0/16", 24, 256), /only 256/);
        assert.throws(() => subnetLayout("10.0.0.0/24", 2), /too small/);
    });

    it("IAM: only AWS-managed least-privilege policies, IRSA trust for exactly one ServiceAccount", () => {
        assert.deepEqual([...CLUSTER_ROLE_POLICIES], ["arn:aws:iam::aws:policy/AmazonEKSClusterPolicy"]);
        assert.deepEqual(
            [...NODE_ROLE_POLICIES],
            ["arn:aws:iam::aws:policy/AmazonEKSWorkerNodePolicy", "arn:aws:iam::aws:policy/AmazonEC2ContainerRegistryPullOnly"],
        );
        const trust = irsaAssumeRolePolicy({
            oidcProviderArn: "arn:aws:iam::1:oidc-provider/oidc.eks.x/id/ABC",
            oidcIssuerUrl: "https://oidc.eks.x/id/ABC",
            namespace: "orders-data",
            serviceAccount: "postgres-backup",
        });
        assert.deepEqual(trust.Statement[0].Condition, {
            StringEquals: {
                "oidc.eks.x/id/ABC:sub": "system:serviceaccount:orders-data:postgres-backup",
                "oidc.eks.x/id/ABC:aud": "sts.amazonaws.com",
            },
        });
        const s3 = objectReadWritePolicy("arn:aws:s3:::b");
        assert.deepEqual(s3.Statement, [
            { Effect: "Allow", Action: ["s3:ListBucket"], Resource: "arn:aws:s3:::b" },
            { Effect: "Allow", Action: ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"], Resource: "arn:aws:s3:::b/*" },
        ]);
    });

    it("ECR lifecycle keeps the last N images; gp3 is the encrypted default class", () => {
        assert.deepEqual(ecrLifecyclePolicy(30).rules[0].selection, { tagStatus: "any", countType: "imageCountMoreThan", countNumber: 30 });
        const sc = gp3StorageClass({ reclaimPolicy: "Retain" });
        assert.equal(sc.metadata.annotations["storageclass.kubernetes.io/is-default-class"], "true");
        assert.equal(sc.provisioner, "ebs.csi.aws.com");
        assert.deepEqual(sc.parameters, { type: "gp3", encrypted: "true", "csi.storage.k8s.io/fstype": "ext4" });
        assert.equal(sc.volumeBindingMode, "WaitForFirstConsumer");
        assert.equal(sc.reclaimPolicy, "Retain");
    });

    it("kubeconfig gets tokens from `aws eks get-token`", () => {
        const kc = JSON.parse(
            eksKubeconfig({ clusterName: "orders-prod", endpoint: "https://x.eks", certificateAuthorityData: "Q0E=", region: "eu-west-1" }),
        );
        assert.equal(kc.clusters[0].cluster.server, "https://x.eks");
        assert.equal(kc.clusters[0].cluster["certificate-authority-data"], "Q0E=");
        assert.equal(kc.users[0].user.exec.command, "aws");
        assert.deepEqual(kc.users[0].user.exec.args, [
            "eks",
            "get-token",
            "--cluster-name",
            "orders-prod",
            "--region",
            "eu-west-1",
            "--output",
            "json",
        ]);
        assert.equal(kc["current-context"], "orders-prod");
        // No static credentials in the file.
        assert.deepEqual(Object.keys(kc.users[0].user), ["exec"]);
    });
});

describe("cluster specs: GKE", () => {
    it("kubeconfig uses gke-gcloud-auth-plugin", () => {
        const kc = JSON.parse(
            gkeKubeconfig({
                project: "p",
                location: "europe-west1",
                clusterName: "orders-prod",
                endpoint: "34.1.2.3",
                certificateAuthorityData: "Q0E=",
            }),
        );
        assert.equal(kc.clusters[0].cluster.server, "https://34.1.2.3");
        assert.equal(kc.users[0].user.exec.command, "gke-gcloud-auth-plugin");
        assert.equal(kc.users[0].user.exec.provideClusterInfo, true);
        assert.equal(kc["current-context"], "gke_p_europe-west1_orders-prod");
    });

    it("Workload Identity member and registry paths", () => {
        assert.equal(
            workloadIdentityMember("orders-prod-123456", { namespace: "orders-data", name: "postgres-backup" }),
            "serviceAccount:orders-prod-123456.svc.id.goog[orders-data/postgres-backup]",
        );
        assert.equal(
            artifactImageRepository("europe-west1", "p", "orders-prod", "users"),
            "europe-west1-docker.pkg.dev/p/orders-prod/users",
        );
        const id = serviceAccountId("staging", "pg-backup-with-a-very-long-purpose");
        assert.ok(id.length <= 30 && /^[a-z][a-z0-9-]*[a-z0-9]$/.test(id), id);
    });
});

describe("cluster specs: existing", () => {
    it("kubeconfig path: config, then $KUBECONFIG, then ~/.kube/config", () => {
        assert.equal(kubeconfigPath("~/k.yaml", {}, "/home/u"), path.join("/home/u", "k.yaml"));
        assert.equal(kubeconfigPath(undefined, { KUBECONFIG: `/a/one${path.delimiter}/b/two` }, "/home/u"), "/a/one");
        assert.equal(kubeconfigPath(undefined, {}, "/home/u"), path.join("/home/u", ".kube", "config"));
    });

    it("registry server and app repositories from the configured prefix", () => {
        assert.equal(registryServer("registry.example.com:5000/orders"), "registry.example.com:5000");
        assert.equal(registryRepository("registry.example.com/orders/", "users"), "registry.example.com/orders/users");
    });
});

describe("cluster specs: topology", () => {
    it("is derived from config as plain booleans", () => {
        assert.deepEqual(clusterTopology(clusterSchema.parse({ provider: "kind" })), { multiNode: false, multiZone: false });
        assert.deepEqual(clusterTopology(clusterSchema.parse({ provider: "kind", kind: { workers: 2 } })), {
            multiNode: true,
            multiZone: false,
        });
        assert.deepEqual(
            clusterTopology(
                clusterSchema.parse({
                    provider: "eks",
                    eks: { region: "eu-west-1", deployerRoleArn: "arn:aws:iam::123456789012:role/deploy", azCount: 3 },
                }),
            ),
            {
                multiNode: true,
                multiZone: true,
            },
        );
        assert.deepEqual(
            clusterTopology(
                clusterSchema.parse({
                    provider: "eks",
                    eks: {
                        region: "eu-west-1",
                        deployerRoleArn: "arn:aws:iam::123456789012:role/deploy",
                        nodeGroup: { minSize: 1, desiredSize: 1, maxSize: 2 },
                    },
                }),
            ),
            { multiNode: false, multiZone: false },
        );
        assert.deepEqual(
            clusterTopology(clusterSchema.parse({ provider: "gke", gke: { project: "orders-prod-123456", region: "europe-west1" } })),
            { multiNode: true, multiZone: true },
        );
        assert.deepEqual(
            clusterTopology(clusterSchema.parse({ provider: "existing", existing: { context: "c", registry: "r.example.com/o" } })),
            { multiNode: false, multiZone: false },
        );
    });
});
