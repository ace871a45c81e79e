// App images: which versions are built and which are referenced, and what workloads get.
import * as assert from "node:assert/strict";
import * as path from "node:path";
import { Cluster } from "../components/cluster";
import { accessSchema, appSchema, clusterSchema, imagesSchema, loadAppCatalog, type AppConfig } from "../components/config";
import { AppImages, assertPinnedTag, buildPaths, imagePlan, pinnedReference, taggedImage } from "../components/images";
import { type ProgramRun, runProgram } from "./harness";
import { fakeDigest, mockCall } from "./harness/mockRegistry";
import { MOCK_DEPLOYER_ROLE_ARN, MOCK_ECR_PASSWORD, MOCK_GCP_ACCESS_TOKEN } from "./harness/mocks/cluster";

const DIGEST = /@sha256:[a-f0-9]{64}$/;
const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const catalog = loadAppCatalog();
const checkout = (app: string) => catalog.get(app)!.checkoutVersion;

describe("images: build-or-reference decision", () => {
    const facts = { name: "users", checkoutVersion: "1.1.0" };

    it("builds only the checkout's version", () => {
        assert.deepEqual(imagePlan(facts, { version: "1.1.0" }), [{ track: "stable", version: "1.1.0", action: "build" }]);
        assert.deepEqual(imagePlan(facts, { version: "1.0.0" }), [{ track: "stable", version: "1.0.0", action: "reference" }]);
    });

    it("canary of the checkout's version: canary built, stable referenced (and the reverse)", () => {
        assert.deepEqual(imagePlan(facts, { version: "1.0.0", canary: { version: "1.1.0" } }), [
            { track: "stable", version: "1.0.0", action: "reference" },
            { track: "canary", version: "1.1.0", action: "build" },
        ]);
        assert.deepEqual(imagePlan(facts, { version: "1.1.0", canary: { version: "1.2.0-rc.1" } }), [
            { track: "stable", version: "1.1.0", action: "build" },
            { track: "canary", version: "1.2.0-rc.1", action: "reference" },
        ]);
    });

    it("takes an image given by digest as is, for either track", () => {
        const image = `r.example/users:1.0.0@${fakeDigest("u")}`;
        assert.deepEqual(imagePlan(facts, { version: "1.0.0", image, canary: { version: "1.1.0" } }), [
            { track: "stable", version: "1.0.0", action: "given", reference: image },
            { track: "canary", version: "1.1.0", action: "build" },
        ]);
    });

    it("refuses moving tags", () => {
        for (const bad of ["latest", "LATEST", "main", "", "1.0.0 "])
            assert.throws(() => assertPinnedTag("users", bad), /not a pinned version/);
        assert.throws(() => imagePlan(facts, { version: "latest" }), /users/);
    });

    it("references carry the tag and the digest", () => {
        const d = fakeDigest("x");
        assert.equal(taggedImage("r.example/users", "1.0.0"), "r.example/users:1.0.0");
        assert.equal(pinnedReference("r.example/users", "1.0.0", `r.example/users@${d}`), `r.example/users:1.0.0@${d}`);
        assert.equal(pinnedReference("localhost:5001/users", "1.0.0", d), `localhost:5001/users:1.0.0@${d}`);
        assert.throws(() => pinnedReference("r/users", "1.0.0", "sha256:short"), /not a sha256 digest/);
    });

    it("build context is apps/ (shared service-kit), the shared Dockerfile with the app as build argument, relative to the project", () => {
        assert.deepEqual(buildPaths("/repo/apps/users", "/repo", path), {
            context: "apps",
            dockerfile: path.join("apps", "Dockerfile"),
            args: { APP: "users" },
        });
    });
});

interface ImagesRunOutputs {
    refs: Record<string, { stable: string; canary?: string }>;
}

function runImages(clusterRaw: Record<string, unknown>, apps: Record<string, Record<string, unknown>>) {
    const parsedApps: Record<string, AppConfig> = Object.fromEntries(Object.entries(apps).map(([k, v]) => [k, appSchema.parse(v)]));
    return runProgram(() => {
        const cluster = new Cluster("cluster", {
            environment: "staging",
            config: clusterSchema.parse(clusterRaw),
            appNames: [...catalog.keys()],
            protect: false,
            images: imagesSchema.parse({}),
            accessGroups: accessSchema.parse({}).groups,
        });
        const images = new AppImages("images", { catalog, apps: parsedApps, registry: cluster.registry });
        return { refs: images.refs } as unknown as ImagesRunOutputs;
    });
}

describe("images: under mocks", () => {
    const lookups: string[] = [];
    before(() => {
        // Same answer as the shared mock, plus a record of what was looked up.
        mockCall("docker:index/getRegistryImage:getRegistryImage", (inputs) => {
            lookups.push(String(inputs.name));
            return { name: inputs.name, sha256Digest: fakeDigest(String(inputs.name)) };
        });
    });
    beforeEach(() => lookups.splice(0));

    describe("EKS with a canary of an older stable", () => {
        let run: ProgramRun<ImagesRunOutputs>;
        let looked: string[] = [];
        const ecr = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging";
        before(async () => {
            lookups.splice(0);
            run = await runImages(
                { provider: "eks", eks: { region: "eu-west-1", deployerRoleArn: MOCK_DEPLOYER_ROLE_ARN } },
                {
                    users: { version: "0.9.0", canary: { version: checkout("users"), weight: 10 } },
                    orders: { version: checkout("orders") },
                },
            );
            looked = [...lookups];
        });

        it("builds one image per checkout version, from apps/ with the app's Dockerfile, pushed to ECR", () => {
            const built = run.byType("docker:index/image:Image");
            assert.deepEqual(built.map((i) => i.inputs.imageName).sort(), [
                `${ecr}/orders:${checkout("orders")}`,
                `${ecr}/users:${checkout("users")}`,
            ]);
            for (const image of built) {
                const app = image.name.replace("images-", "");
                assert.deepEqual(image.inputs.build, {
                    context: "apps",
                    dockerfile: path.join("apps", "Dockerfile"),
                    args: { APP: app },
                    platform: "linux/amd64",
                });
                assert.equal(image.inputs.skipPush, false);
                assert.equal(image.inputs.registry.server, "123456789012.dkr.ecr.eu-west-1.amazonaws.com");
                assert.equal(image.inputs.registry.username, "AWS");
                assert.equal(image.inputs.registry.password, MOCK_ECR_PASSWORD);
                assert.equal(
                    image.wireInputs.registry.password[Object.keys(image.wireInputs.registry.password)[0]],
                    SECRET_SIG,
                    "token stays secret",
                );
            }
        });

        it("the stable side not in the checkout is looked up in ECR, not rebuilt", () => {
            assert.deepEqual(looked, [`${ecr}/users:0.9.0`]);
            assert.equal(run.outputs.refs.users.stable, `${ecr}/users:0.9.0@${fakeDigest(`${ecr}/users:0.9.0`)}`);
            const provider = run.get("pulumi:providers:docker", "images-registry");
            assert.deepEqual(JSON.parse(provider.inputs.registryAuth), [
                { address: "123456789012.dkr.ecr.eu-west-1.amazonaws.com", username: "AWS", password: MOCK_ECR_PASSWORD },
            ]);
        });

        it("every ref is <registry>/<app>:<version>@sha256, never latest", () => {
            assert.match(run.outputs.refs.users.canary!, new RegExp(`^${ecr}/users:${checkout("users").replace(/\./g, "\\.")}@sha256:`));
            assert.equal(run.outputs.refs.orders.canary, undefined);
            const all = Object.values(run.outputs.refs).flatMap((r) => [r.stable, r.canary].filter(Boolean) as string[]);
            assert.equal(all.length, 3);
            for (const ref of all) {
                assert.ok(ref.startsWith(`${ecr}/`), ref);
                assert.match(ref, DIGEST);
                assert.match(ref, /:\d+\.\d+\.\d+[^@]*@/);
                assert.doesNotMatch(ref, /:latest/);
            }
        });
    });

    it("GKE: pushes to Artifact Registry with the gcloud access token", async () => {
        const run = await runImages(
            { provider: "gke", gke: { project: "orders-prod-123456", region: "europe-west1" } },
            {
                users: { version: checkout("users") },
                orders: { version: checkout("orders") },
            },
        );
        const image = run.get("docker:index/image:Image", "images-users");
        assert.equal(image.inputs.imageName, `europe-west1-docker.pkg.dev/orders-prod-123456/orders-staging/users:${checkout("users")}`);
        assert.deepEqual(image.inputs.registry, {
            server: "europe-west1-docker.pkg.dev",
            username: "oauth2accesstoken",
            password: MOCK_GCP_ACCESS_TOKEN,
        });
        assert.match(
            run.outputs.refs.users.stable,
            /^europe-west1-docker\.pkg\.dev\/orders-prod-123456\/orders-staging\/users:\d+\.\d+\.\d+@sha256:/,
        );
        assert.deepEqual(lookups, []);
        assert.deepEqual(run.byType("pulumi:providers:docker"), [], "no lookup provider without lookups");
    });

    it("kind: pushes to the local registry without credentials, after the registry is wired in", async () => {
        const run = await runImages({ provider: "kind" }, { users: { version: checkout("users") }, orders: { version: "0.1.0" } });
        const users = run.get("docker:index/image:Image", "images-users");
        assert.equal(users.inputs.imageName, `localhost:5001/users:${checkout("users")}`);
        assert.equal(users.inputs.registry, undefined);
        const registry = run.get("docker:index/container:Container", "cluster-registry");
        const hosts = run.get("command:local:Command", "cluster-registry-hosts");
        assert.ok(users.dependsOn.includes(registry.urn) && users.dependsOn.includes(hosts.urn), "push waits for the registry");
        assert.deepEqual(
            run.byType("docker:index/image:Image").map((i) => i.name),
            ["images-users"],
        );
        assert.deepEqual(lookups, ["localhost:5001/orders:0.1.0"]);
        // The local registry speaks plain HTTP: the lookup provider must say so, without credentials.
        const [lookupProvider] = run.byType("pulumi:providers:docker");
        const auth = JSON.parse(lookupProvider.inputs.registryAuth)[0];
        assert.deepEqual(auth, { address: "http://localhost:5001", authDisabled: true });
        assert.equal(run.outputs.refs.orders.stable, `localhost:5001/orders:0.1.0@${fakeDigest("localhost:5001/orders:0.1.0")}`);
    });

    it("an app without stack config fails with the key to set", async () => {
        await assert.rejects(runImages({ provider: "kind" }, { users: { version: "1.0.0" } }), /orders-platform:apps\.orders is missing/);
    });

    describe("images given by digest in stack config", () => {
        const stable = `registry.example.com/orders/users:0.9.0@${fakeDigest("users-0.9.0")}`;
        const canary = `registry.example.com/orders/users@${fakeDigest("users-canary")}`;
        let run: ProgramRun<ImagesRunOutputs>;
        before(async () => {
            lookups.splice(0);
            run = await runImages(
                { provider: "eks", eks: { region: "eu-west-1", deployerRoleArn: MOCK_DEPLOYER_ROLE_ARN } },
                {
                    users: { version: "0.9.0", image: stable, canary: { version: checkout("users"), weight: 10, image: canary } },
                    orders: { version: checkout("orders") },
                },
            );
        });

        it("uses them as they are: nothing built or looked up for that app", () => {
            assert.equal(run.outputs.refs.users.stable, stable);
            assert.equal(run.outputs.refs.users.canary, canary);
            assert.deepEqual(
                run.byType("docker:index/image:Image").map((i) => i.name),
                ["images-orders"],
                "only the app without a given image is built",
            );
            assert.ok(!lookups.some((l) => l.includes("/users:")), `no registry lookup for users: ${lookups.join(", ")}`);
        });
    });
});
