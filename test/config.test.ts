import { strict as assert } from "node:assert";
import { ConfigError, loadAppCatalog, parseStackConfig } from "../components/config";
import { parseCpu, parseMemory, parseQuantity as programQuantity } from "../components/config/quantity";
import { parseQuantity as packQuantity } from "../policy/lib/quantity";
import { GKE_OVERRIDES as GKE, rawStackConfig, SHIPPED_STACKS } from "./harness/stackConfig";

const catalog = loadAppCatalog();

function configError(stack: string, overrides: Record<string, unknown>): ConfigError {
    try {
        parseStackConfig(rawStackConfig(stack, overrides), stack, catalog);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
        return err;
    }
    assert.fail(`expected ${JSON.stringify(overrides)} to be rejected`);
}

describe("stack config", () => {
    for (const stack of SHIPPED_STACKS) {
        it(`accepts the shipped ${stack} stack`, () => {
            const config = parseStackConfig(rawStackConfig(stack), stack, catalog);
            assert.equal(config.environment, stack);
            assert.deepEqual(Object.keys(config.apps).sort(), [...catalog.keys()].sort());
        });
    }

    it("reads the values each environment needs", () => {
        const dev = parseStackConfig(rawStackConfig("dev"), "dev", catalog);
        assert.equal(dev.cluster.provider, "kind");
        assert.equal(dev.cluster.kind?.workers, 0);
        assert.equal(dev.mesh.enabled, true);
        assert.equal(dev.mesh.tracingSamplePercent, 100);
        assert.equal(dev.protect, false);

        const staging = parseStackConfig(rawStackConfig("staging"), "staging", catalog);
        assert.equal(staging.cluster.provider, "eks");
        assert.equal(staging.cluster.eks?.azCount, 2);
        assert.equal(staging.cluster.eks?.nodeGroup.desiredSize, 2);

        const prod = parseStackConfig(rawStackConfig("prod"), "prod", catalog);
        assert.equal(prod.cluster.eks?.azCount, 3);
        assert.deepEqual(prod.apps.users.autoscaling, { min: 3, max: 10, cpuPercent: 65 });
        assert.deepEqual(prod.apps.users.canary, { version: "1.1.0", weight: 10, replicas: 1 });
        assert.equal(prod.mesh.mtlsMode, "STRICT");
        assert.equal(prod.database.backup.schedule, "0 2 * * *");
        assert.equal(prod.database.backup.retentionDays, 30);
        assert.equal(prod.protect, true);
    });

    it("fills defaults per environment without overriding stack values", () => {
        const prod = parseStackConfig(
            rawStackConfig("prod", { protect: undefined, "mesh.tracingSamplePercent": undefined }),
            "prod",
            catalog,
        );
        assert.equal(prod.protect, true, "prod protects by default");
        assert.equal(prod.mesh.tracingSamplePercent, 1);
        const staging = parseStackConfig(rawStackConfig("staging", { protect: undefined }), "staging", catalog);
        assert.equal(staging.protect, false);
        const devOverride = parseStackConfig(rawStackConfig("dev", { "mesh.tracingSamplePercent": 5 }), "dev", catalog);
        assert.equal(devOverride.mesh.tracingSamplePercent, 5);
    });

    it("runs on a minimal stack: every omitted section gets its documented defaults", () => {
        const config = parseStackConfig(
            {
                environment: "staging",
                cluster: { provider: "kind" },
                apps: { users: { version: "1.0.0" }, orders: { version: "1.0.0" } },
                edge: { host: "orders.test" },
                auth: { issuer: "https://auth.test/", jwksUri: "https://auth.test/jwks.json", audiences: ["orders-api"] },
                // staging and prod refuse a stack whose alerts reach nobody
                observability: { alerting: { receivers: { ops: { webhook: {} } }, route: { receiver: "ops" } } },
                alertingSecrets: { ops: "https://alerts.orders.test/hook" },
            },
            "minimal",
            catalog,
        );
        assert.equal(config.cluster.kind?.httpPort, 8080);
        assert.deepEqual(config.apps.users.resources, {
            requests: { cpu: "100m", memory: "128Mi" },
            limits: { cpu: "500m", memory: "256Mi" },
        });
        assert.equal(config.database.backup.schedule, "0 2 * * *");
        assert.equal(config.database.backup.retentionDays, 7);
        assert.equal(config.mesh.traffic.retries.attempts, 2);
        assert.equal(config.mesh.traffic.outlierDetection.consecutive5xxErrors, 5);
        assert.equal(config.mesh.gateway.resources.limits.memory, "512Mi");
        assert.equal(config.mesh.tracingSamplePercent, 10, "staging default");
        assert.equal(config.observability.jaeger.maxTraces, 50000);
        assert.equal(config.observability.grafana.enabled, true);
        assert.equal(config.edge.tls.enabled, false);
        assert.deepEqual(config.edge.rateLimit, { enabled: true, requestsPerSecond: 20, burst: 40, maxClients: 10000, trustedProxies: 0 });
        assert.equal(config.auth.userClaim, "sub");
        assert.deepEqual(config.auth.canaryClaim, { name: "roles", value: "canary-tester" });
    });

    it("accepts numbers stored as strings by `pulumi config set --path`", () => {
        const prod = parseStackConfig(rawStackConfig("prod", { "apps.users.canary.weight": "25" }), "prod", catalog);
        assert.equal(prod.apps.users.canary?.weight, 25);
    });

    it("switches a stack to GKE with one config change (the cluster section)", () => {
        const gke = { project: "orders-staging-1234", region: "europe-west1", masterAuthorizedCidrs: ["198.51.100.0/24"] };
        const config = parseStackConfig(rawStackConfig("staging", { cluster: { provider: "gke", gke } }), "staging", catalog);
        assert.equal(config.cluster.provider, "gke");
        assert.equal(config.cluster.gke?.releaseChannel, "REGULAR");
    });

    it("dev needs no identity provider: the program is the issuer", () => {
        const dev = parseStackConfig(rawStackConfig("dev"), "dev", catalog);
        assert.equal(dev.auth.localIssuer, true);
        assert.equal(dev.auth.issuer, undefined);
        assert.deepEqual(dev.auth.audiences, ["orders-api"]);
        const own = parseStackConfig(
            rawStackConfig("dev", { auth: { localIssuer: false, issuer: "https://auth.test/", jwksUri: "https://auth.test/jwks" } }),
            "dev",
            catalog,
        );
        assert.equal(own.auth.issuer, "https://auth.test/");
    });

    it("staging and prod ship a real issuer and closed API endpoints", () => {
        for (const stack of ["staging", "prod"]) {
            const config = parseStackConfig(rawStackConfig(stack), stack, catalog);
            assert.equal(config.auth.localIssuer, false);
            assert.match(config.auth.issuer ?? "", /^https:\/\/auth\.(staging\.)?example\.com\/$/);
            assert.match(config.auth.jwksUri ?? "", /^https:\/\//);
            assert.ok(!config.cluster.eks!.endpointPublicAccessCidrs.includes("0.0.0.0/0"), stack);
        }
    });

    describe("rejects bad values with the key, the value and what is allowed", () => {
        const cases: Array<[string, Record<string, unknown>, RegExp]> = [
            [
                "an unknown cluster provider",
                { "cluster.provider": "aks" },
                /orders-platform:cluster\.provider = "aks": must be one of kind \| eks \| gke \| existing/,
            ],
            [
                "a canary weight of 130",
                { "apps.users.canary.weight": 130 },
                /orders-platform:apps\.users\.canary\.weight = 130: must be a whole number from 0 to 100/,
            ],
            [
                "version latest",
                { "apps.orders.version": "latest" },
                /orders-platform:apps\.orders\.version = "latest": must be a SemVer version like 1\.4\.2 .*"latest"/,
            ],
            [
                "replicas -1",
                { "apps.orders.replicas": -1 },
                /orders-platform:apps\.orders\.replicas = -1: must be a whole number from 1 to 50/,
            ],
            [
                "a typo in a key",
                { "apps.users.replcas": 2 },
                /orders-platform:apps\.users\.replcas = 2: unknown key; allowed keys here: version, image, replicas, resources, autoscaling, canary, logLevel/,
            ],
            [
                "a typo in a top-level key",
                { obsevability: { grafana: { enabled: true } } },
                /orders-platform:obsevability = .*: unknown key; allowed keys here: environment, protect, cluster/,
            ],
            [
                "an unknown app",
                { "apps.payments": { version: "1.0.0" } },
                /orders-platform:apps\.payments: unknown app; apps in this checkout: orders, users/,
            ],
            [
                "a missing cloud section",
                { "cluster.eks": undefined },
                /orders-platform:cluster\.eks = \(not set\): is required when provider is "eks"/,
            ],
            [
                "limits below requests",
                { "apps.users.resources.limits.memory": "64Mi" },
                /orders-platform:apps\.users\.resources\.limits\.memory = "64Mi": must be >= requests\.memory \(256Mi\)/,
            ],
            [
                "a canary equal to the stable version",
                { "apps.users.canary.version": "1.0.0" },
                /orders-platform:apps\.users\.canary\.version = "1\.0\.0": must differ from the stable version 1\.0\.0/,
            ],
            [
                "a bad cron schedule",
                { "database.backup.schedule": "daily" },
                /orders-platform:database\.backup\.schedule = "daily": must be a 5-field cron schedule/,
            ],
            [
                "TLS without a certificate secret",
                { "edge.tls.secretName": undefined },
                /orders-platform:edge\.tls\.secretName = \(not set\): secretName is required when tls\.enabled is true/,
            ],
            [
                "autoscaling max below min",
                { "apps.users.autoscaling.max": 2 },
                /orders-platform:apps\.users\.autoscaling\.max = 2: max must be >= min/,
            ],
            [
                "the mesh off without an ingress controller",
                { "mesh.enabled": false },
                /orders-platform:edge\.installController = \(not set\): must be true when mesh\.enabled is false/,
            ],
            [
                "an EKS stack without its deployer role",
                { "cluster.eks.deployerRoleArn": undefined },
                /orders-platform:cluster\.eks\.deployerRoleArn = \(not set\): is required/,
            ],
            [
                "an assumed-role session as the deployer",
                { "cluster.eks.deployerRoleArn": "arn:aws:sts::123456789012:assumed-role/deploy/ci" },
                /orders-platform:cluster\.eks\.deployerRoleArn = "arn:aws:sts::.*": must be an IAM role ARN/,
            ],
            [
                "a reserved group name",
                { "access.groups.viewers": "system:masters" },
                /orders-platform:access\.groups\.viewers = "system:masters": must be a group name .*no "system:" prefix/,
            ],
            [
                "one group for two roles",
                { "access.groups.operators": "orders-platform:viewers" },
                /orders-platform:access\.groups\.operators = "orders-platform:viewers": must differ from viewers/,
            ],
            [
                "Google groups on GKE without the security group",
                { ...GKE, "access.groups": { viewers: "orders-viewers@example.com" } },
                /orders-platform:cluster\.gke\.securityGroup = \(not set\): is required when access\.groups names Google groups \(orders-viewers@example\.com\)/,
            ],
            [
                "a non-Google group on GKE with Google Groups for RBAC",
                {
                    ...GKE,
                    "cluster.gke.securityGroup": "gke-security-groups@example.com",
                    "access.groups": { viewers: "orders-viewers@example.com" },
                },
                /orders-platform:access\.groups\.databaseAdmins = \(not set\): must be a Google group address like "orders-database-admins@example\.com", not "orders-platform:database-admins"/,
            ],
            [
                "a log retention that is not whole days",
                { "observability.logs.retention": "36h" },
                /orders-platform:observability\.logs\.retention = "36h": must be whole days \(Loki deletes by its 24h index period\)/,
            ],
            ["an unknown environment", { environment: "qa" }, /orders-platform:environment = "qa": must be one of dev \| staging \| prod/],
            [
                "a JWKS URI that is not https",
                { "auth.jwksUri": "http://auth.example.com/jwks.json" },
                /orders-platform:auth\.jwksUri = "http:\/\/auth\.example\.com\/jwks\.json": must be an https URL/,
            ],
            [
                "both a JWKS URI and an inline JWKS",
                { "auth.jwks": '{"keys":[{"kty":"EC","crv":"P-256","x":"x","y":"y"}]}' },
                /orders-platform:auth\.jwksUri = .*: exactly one of jwksUri and jwks is required/,
            ],
            [
                "an inline JWKS with a private key",
                { "auth.jwksUri": undefined, "auth.jwks": '{"keys":[{"kty":"EC","crv":"P-256","x":"x","y":"y","d":"secret"}]}' },
                /orders-platform:auth\.jwks = .*: keys\[0\] holds private key material \(d\); give only the public keys/,
            ],
            [
                "the local issuer next to an issuer",
                { "auth.localIssuer": true },
                /orders-platform:auth\.issuer = "https:\/\/auth\.example\.com\/": must not be set when localIssuer is true/,
            ],
            [
                "a claim name with a dot",
                { "auth.userClaim": "user.id" },
                /orders-platform:auth\.userClaim = "user\.id": must be a JWT claim name/,
            ],
            [
                "a cron schedule out of range",
                { "database.backup.schedule": "99 99 99 99 99" },
                /orders-platform:database\.backup\.schedule = "99 99 99 99 99": must be a 5-field cron schedule like "0 2 \* \* \*" \(minute 0-59, hour 0-23/,
            ],
            [
                "a cron schedule that never runs",
                { "database.backup.schedule": "0 2 30 2 *" },
                /orders-platform:database\.backup\.schedule = "0 2 30 2 \*": never runs \(no month has that day\)/,
            ],
            [
                "a cron extension Kubernetes does not know",
                { "database.backup.schedule": "0 2 L * *" },
                /orders-platform:database\.backup\.schedule = "0 2 L \* \*": must be a 5-field cron schedule/,
            ],
            [
                'a memory quantity with "K" (Kubernetes writes k)',
                { "apps.users.resources.requests.memory": "256K" },
                /orders-platform:apps\.users\.resources\.requests\.memory = "256K": must be a memory quantity like "256Mi" or "1Gi"/,
            ],
            [
                "a negative CPU quantity",
                { "apps.users.resources.requests.cpu": "-1" },
                /orders-platform:apps\.users\.resources\.requests\.cpu = "-1": must be a CPU quantity/,
            ],
            [
                "a CIDR with octets and a prefix out of range",
                { "cluster.eks.endpointPublicAccessCidrs": ["999.1.1.1/99"] },
                /orders-platform:cluster\.eks\.endpointPublicAccessCidrs\.0 = "999\.1\.1\.1\/99": must be a CIDR/,
            ],
            [
                "a VPC CIDR with a /33 prefix",
                { "cluster.eks.vpcCidr": "10.0.0.0/33" },
                /orders-platform:cluster\.eks\.vpcCidr = "10\.0\.0\.0\/33": must be a CIDR like "10\.0\.0\.0\/16"/,
            ],
            [
                "a version whose numeric pre-release has a leading zero",
                { "apps.orders.version": "1.0.0-01" },
                /orders-platform:apps\.orders\.version = "1\.0\.0-01": must be a SemVer version/,
            ],
            [
                "a version with build metadata (no image tag can hold it)",
                { "apps.orders.version": "1.0.0+build.5" },
                /orders-platform:apps\.orders\.version = "1\.0\.0\+build\.5": must be a SemVer version like 1\.4\.2 .*without build metadata/,
            ],
            [
                "a chart version with a leading zero",
                { "charts.traefik.version": "01.2.3" },
                /orders-platform:charts\.traefik\.version = "01\.2\.3": must be a pinned chart version/,
            ],
            [
                "a burst below the rate",
                { "edge.rateLimit": { requestsPerSecond: 50, burst: 10 } },
                /orders-platform:edge\.rateLimit\.burst = 10: burst must be >= requestsPerSecond/,
            ],
        ];
        for (const [what, overrides, expected] of cases) {
            it(what, () => {
                const err = configError("prod", overrides);
                assert.match(err.message, expected);
                assert.match(err.message, /^invalid stack config for stack "prod":/);
            });
        }

        it("requires prod to name its issuer, audiences and API endpoint CIDRs itself (no default stands in)", () => {
            const err = configError("prod", { auth: undefined, "cluster.eks.endpointPublicAccessCidrs": undefined });
            assert.deepEqual(
                err.problems.filter((p) => /is required in prod/.test(p)).map((p) => p.split(" = ")[0]),
                ["orders-platform:auth.issuer", "orders-platform:auth.audiences", "orders-platform:cluster.eks.endpointPublicAccessCidrs"],
            );
            assert.match(
                err.message,
                /endpointPublicAccessCidrs = \(not set\): is required in prod \(without it the Kubernetes API endpoint is open to 0\.0\.0\.0\/0\)/,
            );
            // One line per key: the schema's own "issuer is required" is folded into the environment's.
            assert.equal(err.problems.filter((p) => p.startsWith("orders-platform:auth.issuer")).length, 1, err.message);
        });

        it("requires the GKE control-plane CIDRs in staging once the stack is on GKE", () => {
            const err = configError("staging", {
                "cluster.provider": "gke",
                "cluster.eks": undefined,
                "cluster.gke": { project: "orders-staging-1234", region: "europe-west1" },
            });
            assert.match(err.message, /orders-platform:cluster\.gke\.masterAuthorizedCidrs = \(not set\): is required in staging/);
            assert.doesNotMatch(err.message, /endpointPublicAccessCidrs/);
        });

        it("parses Kubernetes quantities with the policy pack's parser, so both accept the same texts", () => {
            assert.equal(programQuantity, packQuantity);
            assert.equal(parseMemory("256Mi"), 256 * 2 ** 20);
            assert.equal(parseMemory("1k"), 1000);
            assert.equal(parseMemory("256K"), undefined);
            assert.equal(parseCpu("250m"), 250);
            assert.equal(parseCpu("1.5"), 1500);
        });

        it("reports every problem at once", () => {
            const err = configError("prod", { "apps.users.canary.weight": 130, "cluster.provider": "aks", "apps.orders.replicas": -1 });
            assert.equal(err.problems.length, 3, err.message);
        });
    });
});
