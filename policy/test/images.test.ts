import { strict as assert } from "node:assert";
import { allowedBy, matchesRegistryPattern, parseImage } from "../lib/images";
import { noLatestImage } from "../policies";
import { appContainer, DIGEST, podSpec, WORKLOAD_KINDS, withPod, workload, deployment } from "./fixtures";
import { violations } from "./helpers";

const PROD_REGISTRIES = [
    "*.dkr.ecr.*.amazonaws.com/",
    "*-docker.pkg.dev/",
    "docker.io/library/postgres",
    "public.ecr.aws/aws-cli/",
    "gcr.io/google.com/cloudsdktool/",
];
const DEV_REGISTRIES = ["localhost:5001/", "docker.io/library/postgres"];

const withImage = (image: string, kind: (typeof WORKLOAD_KINDS)[number] = "Deployment") =>
    withPod(workload(kind), (spec) => (spec.containers[0].image = image));

describe("image references", () => {
    const cases: Array<[string, Partial<{ registry: string; path: string; tag: string; digest: string }>]> = [
        ["postgres", { registry: "docker.io", path: "library/postgres" }],
        ["postgres:17.6-bookworm", { registry: "docker.io", path: "library/postgres", tag: "17.6-bookworm" }],
        ["bitnami/redis:7", { registry: "docker.io", path: "bitnami/redis", tag: "7" }],
        ["repo:5000/app", { registry: "repo:5000", path: "app", tag: undefined }],
        ["repo:5000/app:1.2", { registry: "repo:5000", path: "app", tag: "1.2" }],
        ["localhost:5001/users:1.0.0", { registry: "localhost:5001", path: "users", tag: "1.0.0" }],
        ["localhost/users", { registry: "localhost", path: "users" }],
        [`app@${DIGEST}`, { registry: "docker.io", path: "library/app", digest: DIGEST, tag: undefined }],
        [`repo:5000/app:1.0@${DIGEST}`, { registry: "repo:5000", path: "app", tag: "1.0", digest: DIGEST }],
        [
            "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/users:1.0.0",
            { registry: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", path: "orders-platform/users", tag: "1.0.0" },
        ],
        ["index.docker.io/library/postgres:17", { registry: "docker.io", path: "library/postgres", tag: "17" }],
    ];
    for (const [raw, want] of cases) {
        it(`parses ${raw}`, () => {
            const r = parseImage(raw);
            assert.ok(r.ok, !r.ok ? r.error : "");
            for (const [k, v] of Object.entries(want)) assert.equal((r.ref as unknown as Record<string, unknown>)[k], v, k);
        });
    }

    for (const bad of [
        "",
        "app/UPPER:1",
        "Users:1",
        "app:",
        "app:bad tag",
        "app@sha256:123",
        "app@sha256:" + "A".repeat(64),
        "app@",
        "/app:1",
        "app//x:1",
    ]) {
        it(`rejects ${JSON.stringify(bad)}`, () => assert.equal(parseImage(bad).ok, false));
    }

    it("matches registry patterns", () => {
        assert.ok(matchesRegistryPattern("123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders/users", "*.dkr.ecr.*.amazonaws.com/"));
        assert.ok(!matchesRegistryPattern("evil.com/123.dkr.ecr.x.amazonaws.com/users", "*.dkr.ecr.*.amazonaws.com/"));
        assert.ok(matchesRegistryPattern("europe-west1-docker.pkg.dev/p/r/users", "*-docker.pkg.dev/"));
        assert.ok(matchesRegistryPattern("docker.io/library/postgres", "docker.io/library/postgres"));
        assert.ok(!matchesRegistryPattern("docker.io/library/postgresql", "docker.io/library/postgres"));
        assert.ok(matchesRegistryPattern("localhost:5001/users", "localhost:5001/"));
        assert.ok(!matchesRegistryPattern("localhost:50011/users", "localhost:5001/"));
        assert.ok(matchesRegistryPattern("a/b/c/d", "a/**/d"));
    });

    it("normalizes Docker Hub short names on both sides", () => {
        const r = parseImage("postgres:17");
        assert.ok(r.ok);
        assert.equal(allowedBy(r.ref, ["docker.io/library/postgres"]), "docker.io/library/postgres");
        assert.equal(allowedBy(r.ref, ["postgres"]), "postgres");
        assert.equal(allowedBy(r.ref, ["localhost:5001/"]), undefined);
    });
});

describe("k8s-no-latest-image", () => {
    for (const kind of WORKLOAD_KINDS) {
        it(`passes a pinned image in a ${kind}`, async () => {
            assert.deepEqual(await violations(noLatestImage, workload(kind), { allowedRegistries: PROD_REGISTRIES }), []);
        });
        it(`fails :latest in a ${kind}`, async () => {
            const v = await violations(noLatestImage, withImage("localhost:5001/users:latest", kind));
            assert.equal(v.length, 1);
            assert.match(
                v[0],
                new RegExp(
                    `^container "app" of ${kind} orders-apps/users: image "localhost:5001/users:latest" uses the moving tag "latest"`,
                ),
            );
        });
    }

    it("fails an untagged image", async () => {
        const v = await violations(noLatestImage, withImage("users"));
        assert.deepEqual(v, [
            'container "app" of Deployment orders-apps/users: image "users" has no tag or digest, so it resolves to ":latest" (spec.template.spec.containers[0].image); pin it as users:<version> or users@sha256:<digest>',
        ]);
    });

    it("fails repo:5000/app — a registry port is not a tag", async () => {
        const v = await violations(noLatestImage, withImage("repo:5000/app"));
        assert.equal(v.length, 1);
        assert.match(v[0], /image "repo:5000\/app" has no tag or digest/);
        assert.match(v[0], /pin it as repo:5000\/app:<version>/);
    });

    it("passes repo:5000/app:1.2.3", async () => {
        assert.deepEqual(await violations(noLatestImage, withImage("repo:5000/app:1.2.3")), []);
    });

    it("passes digests, with or without a tag (even :latest pinned by digest)", async () => {
        for (const image of [
            `localhost:5001/users@${DIGEST}`,
            `localhost:5001/users:1.0.0@${DIGEST}`,
            `localhost:5001/users:latest@${DIGEST}`,
            `repo:5000/app@${DIGEST}`,
        ]) {
            assert.deepEqual(await violations(noLatestImage, withImage(image)), [], image);
        }
    });

    it("fails a malformed digest", async () => {
        const v = await violations(noLatestImage, withImage("users@sha256:abc"));
        assert.equal(v.length, 1);
        assert.match(v[0], /malformed digest/);
    });

    it("treats LATEST like latest and honours forbiddenTags", async () => {
        assert.equal((await violations(noLatestImage, withImage("users:LATEST"))).length, 1);
        assert.equal((await violations(noLatestImage, withImage("users:main"), { forbiddenTags: ["latest", "main"] })).length, 1);
    });

    it("requires digests when requireDigest is set", async () => {
        const v = await violations(noLatestImage, withImage("users:1.0.0"), { requireDigest: true });
        assert.equal(v.length, 1);
        assert.match(v[0], /not pinned by digest.*users@sha256:<digest>/);
        assert.deepEqual(await violations(noLatestImage, withImage(`users@${DIGEST}`), { requireDigest: true }), []);
    });

    it("fails a container without an image", async () => {
        const f = withPod(deployment(), (spec) => delete spec.containers[0].image);
        assert.match((await violations(noLatestImage, f))[0], /image is not set/);
    });

    it("checks init containers and CronJob job templates", async () => {
        const f = workload(
            "CronJob",
            podSpec([appContainer("backup", "public.ecr.aws/aws-cli/aws-cli:2.17.0")], {
                initContainers: [appContainer("dump", "postgres")],
            }),
        );
        const v = await violations(noLatestImage, f, { allowedRegistries: PROD_REGISTRIES });
        assert.equal(v.length, 1, v.join("\n"));
        assert.match(v[0], /^initContainer "dump" of CronJob orders-apps\/users: image "postgres" has no tag/);
    });

    describe("registry allowlist", () => {
        it("passes the registries each stack allows", async () => {
            const prod = [
                "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/users:1.0.0",
                "europe-west1-docker.pkg.dev/orders-staging-1234/orders/users:1.0.0",
                "postgres:17.6-bookworm",
                "docker.io/library/postgres:17.6-bookworm",
                "public.ecr.aws/aws-cli/aws-cli:2.17.0",
                "gcr.io/google.com/cloudsdktool/google-cloud-cli:stable-slim",
            ];
            for (const image of prod)
                assert.deepEqual(await violations(noLatestImage, withImage(image), { allowedRegistries: PROD_REGISTRIES }), [], image);
            for (const image of ["localhost:5001/users:1.0.0", "postgres:17.6-bookworm"]) {
                assert.deepEqual(await violations(noLatestImage, withImage(image), { allowedRegistries: DEV_REGISTRIES }), [], image);
            }
        });

        it("fails images from other registries, naming the allowed ones", async () => {
            for (const image of ["ghcr.io/evil/app:1.0.0", "nginx:1.27", "docker.io/bitnami/postgresql:17", "localhost:5001/users:1.0.0"]) {
                const v = await violations(noLatestImage, withImage(image), { allowedRegistries: PROD_REGISTRIES });
                assert.equal(v.length, 1, image);
                assert.match(v[0], /is not from an allowed registry/);
                assert.match(v[0], /allowed: \*\.dkr\.ecr\.\*\.amazonaws\.com\//);
            }
        });

        it("reports both an unpinned tag and a foreign registry", async () => {
            const v = await violations(noLatestImage, withImage("ghcr.io/x/app"), { allowedRegistries: DEV_REGISTRIES });
            assert.equal(v.length, 2);
        });

        it("allows any registry when no allowlist is configured", async () => {
            assert.deepEqual(await violations(noLatestImage, withImage("ghcr.io/x/app:1.0.0")), []);
        });
    });
});
