// Provider-computed outputs and invoke results of the cluster variants (kind, EKS, GKE) and registries.
import { fakeDigest, mockCall, mockResourceOutputs } from "../mockRegistry";

export const MOCK_AWS_ACCOUNT = "123456789012";
export const MOCK_AWS_REGION = "eu-west-1";
export const MOCK_DEPLOYER_ROLE_ARN = `arn:aws:iam::${MOCK_AWS_ACCOUNT}:role/deployer`;
export const MOCK_EKS_ISSUER = "https://oidc.eks.eu-west-1.amazonaws.com/id/EXAMPLED539D4633E53DE1B71EXAMPLE";
export const MOCK_ECR_PASSWORD = "mock-ecr-authorization-token";
export const MOCK_GCP_ACCESS_TOKEN = "mock-gcp-access-token";
export const MOCK_KIND_KUBECONFIG =
    "apiVersion: v1\nkind: Config\nclusters:\n- name: kind-mock\n  cluster:\n    server: https://127.0.0.1:6443\n";

// --- kind -------------------------------------------------------------------
mockResourceOutputs("command:local:Command", (_name, inputs) => ({
    stdout: String(inputs.create ?? "").includes("kind get kubeconfig") ? MOCK_KIND_KUBECONFIG : "",
    stderr: "",
}));
mockResourceOutputs("docker:index/remoteImage:RemoteImage", (_name, inputs) => ({
    imageId: fakeDigest(`image-id:${inputs.name}`),
    repoDigest: `${String(inputs.name).replace(/:[^:/]+$/, "")}@${fakeDigest(String(inputs.name))}`,
}));
mockResourceOutputs("docker:index/container:Container", (name) => ({ exitCode: 0, bridge: "", network_data: [], hostname: name }));

// --- AWS --------------------------------------------------------------------
mockCall("aws:index/getAvailabilityZones:getAvailabilityZones", () => ({
    id: MOCK_AWS_REGION,
    names: ["a", "b", "c", "d", "e", "f"].map((z) => `${MOCK_AWS_REGION}${z}`),
    zoneIds: [1, 2, 3, 4, 5, 6].map((i) => `euw1-az${i}`),
}));
mockCall("aws:index/getCallerIdentity:getCallerIdentity", () => ({
    id: MOCK_AWS_ACCOUNT,
    accountId: MOCK_AWS_ACCOUNT,
    arn: `arn:aws:sts::${MOCK_AWS_ACCOUNT}:assumed-role/deployer/ci-session`,
    userId: "AROAEXAMPLE:ci-session",
}));
mockCall("aws:iam/getSessionContext:getSessionContext", (inputs) => ({
    id: inputs.arn,
    arn: inputs.arn,
    issuerArn: MOCK_DEPLOYER_ROLE_ARN,
    issuerId: "AROAEXAMPLE",
    issuerName: "deployer",
    sessionName: "ci-session",
}));
mockCall("aws:ecr/getAuthorizationToken:getAuthorizationToken", (inputs) => ({
    id: inputs.registryId ?? MOCK_AWS_ACCOUNT,
    userName: "AWS",
    password: MOCK_ECR_PASSWORD,
    authorizationToken: Buffer.from(`AWS:${MOCK_ECR_PASSWORD}`).toString("base64"),
    proxyEndpoint: `https://${MOCK_AWS_ACCOUNT}.dkr.ecr.${MOCK_AWS_REGION}.amazonaws.com`,
    expiresAt: "2030-01-01T00:00:00Z",
}));
mockResourceOutputs("aws:eks/cluster:Cluster", (name, inputs) => ({
    name: inputs.name ?? name,
    arn: `arn:aws:eks:${MOCK_AWS_REGION}:${MOCK_AWS_ACCOUNT}:cluster/${inputs.name ?? name}`,
    endpoint: "https://EXAMPLE0123456789.gr7.eu-west-1.eks.amazonaws.com",
    certificateAuthority: { data: Buffer.from("mock-eks-ca").toString("base64") },
    identities: [{ oidcs: [{ issuer: MOCK_EKS_ISSUER }] }],
}));
mockResourceOutputs("aws:iam/role:Role", (name) => ({ name, arn: `arn:aws:iam::${MOCK_AWS_ACCOUNT}:role/${name}` }));
mockResourceOutputs("aws:iam/openIdConnectProvider:OpenIdConnectProvider", (_name, inputs) => ({
    arn: `arn:aws:iam::${MOCK_AWS_ACCOUNT}:oidc-provider/${String(inputs.url).replace(/^https:\/\//, "")}`,
}));
mockResourceOutputs("aws:kms/key:Key", (name) => ({ arn: `arn:aws:kms:${MOCK_AWS_REGION}:${MOCK_AWS_ACCOUNT}:key/${name}`, keyId: name }));
mockResourceOutputs("aws:ecr/repository:Repository", (name, inputs) => ({
    name: inputs.name ?? name,
    registryId: MOCK_AWS_ACCOUNT,
    arn: `arn:aws:ecr:${MOCK_AWS_REGION}:${MOCK_AWS_ACCOUNT}:repository/${inputs.name ?? name}`,
    repositoryUrl: `${MOCK_AWS_ACCOUNT}.dkr.ecr.${MOCK_AWS_REGION}.amazonaws.com/${inputs.name ?? name}`,
}));
mockResourceOutputs("aws:s3/bucket:Bucket", (name, inputs) => {
    const bucket = inputs.bucket ?? `${inputs.bucketPrefix ?? name}20250101000000000000000001`;
    return { bucket, arn: `arn:aws:s3:::${bucket}` };
});
mockResourceOutputs("aws:ec2/launchTemplate:LaunchTemplate", (name) => ({
    arn: `arn:aws:ec2:${MOCK_AWS_REGION}:${MOCK_AWS_ACCOUNT}:launch-template/lt-${name}`,
    latestVersion: 1,
}));
mockResourceOutputs("aws:eks/nodeGroup:NodeGroup", (name) => ({
    arn: `arn:aws:eks:${MOCK_AWS_REGION}:${MOCK_AWS_ACCOUNT}:nodegroup/${name}`,
    status: "ACTIVE",
}));

// --- GCP --------------------------------------------------------------------
mockCall("gcp:organizations/getClientConfig:getClientConfig", () => ({
    id: "mock",
    accessToken: MOCK_GCP_ACCESS_TOKEN,
    project: "mock-project",
    region: "europe-west1",
    zone: "europe-west1-b",
    defaultLabels: {},
}));
mockResourceOutputs("gcp:container/cluster:Cluster", (name, inputs) => ({
    name: inputs.name ?? name,
    endpoint: "34.1.2.3",
    masterAuth: { clusterCaCertificate: Buffer.from("mock-gke-ca").toString("base64") },
}));
mockResourceOutputs("gcp:serviceaccount/account:Account", (_name, inputs) => {
    const email = `${inputs.accountId}@mock-project.iam.gserviceaccount.com`;
    return { email, name: `projects/mock-project/serviceAccounts/${email}`, member: `serviceAccount:${email}` };
});
mockResourceOutputs("gcp:artifactregistry/repository:Repository", (_name, inputs) => ({
    name: inputs.repositoryId,
    registryUri: `${inputs.location}-docker.pkg.dev/mock-project/${inputs.repositoryId}`,
}));
mockResourceOutputs("gcp:storage/bucket:Bucket", (_name, inputs) => ({
    url: `gs://${inputs.name}`,
    selfLink: `https://www.googleapis.com/storage/v1/b/${inputs.name}`,
}));
