// GitOps render: the program's render mode under mocks (the option wiring), and the pure parts of
// scripts/render.ts. The real render (engine, provider writing files) is test/engine/render.engine.ts.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ConfigError, parseStackConfig, RENDER_DIR_ENV, renderMode } from "../components/config";
import {
    clearRenderDirectory,
    imageConfig,
    missingImages,
    missingManifests,
    parseImageFlag,
    parseRenderArgs,
    renderedFileName,
    renderedFiles,
    renderStack,
    renderStackSettings,
} from "../scripts/render";
import { applyConfigOverrides, readStackFile } from "../scripts/lib/stackFile";
import { appCatalog, kubernetesObjects, type ProgramRun, rawStackConfig, runStack } from "./harness";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const IMAGES = {
    "apps.users.image": `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging/users:1.1.0@${digest("a")}`,
    "apps.orders.image": `123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging/orders:1.0.0@${digest("b")}`,
};

async function runRendered(stack: string, overrides: Record<string, unknown>, dir: string): Promise<ProgramRun<Record<string, unknown>>> {
    const previous = process.env[RENDER_DIR_ENV];
    process.env[RENDER_DIR_ENV] = dir;
    try {
        return await runStack(stack, overrides);
    } finally {
        if (previous === undefined) delete process.env[RENDER_DIR_ENV];
        else process.env[RENDER_DIR_ENV] = previous;
    }
}

const cloudResources = (run: ProgramRun) => run.resources.filter((r) => /^(aws|gcp|command|docker)/.test(r.type));

describe("render mode: the program under mocks", function () {
    this.timeout(120_000);
    const dir = path.join(os.tmpdir(), "orders-render-mock");
    let staging: ProgramRun<Record<string, unknown>>;
    let dev: ProgramRun<Record<string, unknown>>;
    before(async () => {
        staging = await runRendered("staging", IMAGES, dir);
        dev = await runRendered("dev", IMAGES, dir);
    });

    it("creates one Kubernetes provider, in render mode to the directory, with no cluster connection", () => {
        for (const run of [staging, dev]) {
            const providers = run.byType("pulumi:providers:kubernetes");
            assert.deepEqual(
                providers.map((p) => p.name),
                ["cluster-render"],
            );
            assert.equal(providers[0].inputs.renderYamlToDirectory, dir);
            assert.equal(providers[0].inputs.alwaysRender, "true");
            assert.equal(providers[0].inputs.kubeconfig, undefined, "render mode refuses a kubeconfig");
        }
    });

    it("every Kubernetes object and chart goes through the render provider", () => {
        for (const run of [staging, dev]) {
            const rendered = [...kubernetesObjects(run.resources), ...run.byType("kubernetes:helm.sh/v4:Chart")];
            assert.ok(rendered.length > 30, `${rendered.length} objects`);
            for (const r of rendered) assert.match(r.provider ?? "", /::cluster-render::/, r.urn);
        }
    });

    it("creates no cloud resource, cluster, registry or image build", () => {
        for (const run of [staging, dev])
            assert.deepEqual(
                cloudResources(run).map((r) => r.type),
                [],
            );
    });

    it("deploys the images given by digest", () => {
        const images = staging
            .byType("kubernetes:apps/v1:Deployment")
            .flatMap((d) => d.inputs.spec.template.spec.containers.map((c: { image: string }) => c.image))
            .filter((i: string) => /\/(users|orders):/.test(i))
            .sort();
        assert.deepEqual(images, [IMAGES["apps.orders.image"], IMAGES["apps.users.image"]]);
    });

    it("EKS: renders the gp3 StorageClass the volumes name, and says what stays with `pulumi up`", () => {
        const sc = staging.get("kubernetes:storage.k8s.io/v1:StorageClass", "cluster-gp3");
        assert.equal(sc.inputs.provisioner, "ebs.csi.aws.com");
        const claims = staging
            .byType("kubernetes:apps/v1:StatefulSet")
            .flatMap((s) => s.inputs.spec.volumeClaimTemplates ?? [])
            .map((c: { spec: { storageClassName: string } }) => c.spec.storageClassName);
        assert.ok(claims.length > 0 && claims.every((c: string) => c === "gp3"), JSON.stringify(claims));
        assert.equal(
            staging.warnings.filter((w) => /^render mode: no EKS resources are created/.test(w)).length,
            1,
            staging.warnings.join("\n"),
        );
        assert.deepEqual(
            dev.warnings.filter((w) => /^render mode/.test(w)),
            [],
        );
    });
});

describe("render mode: config", () => {
    it("is switched on by an absolute directory in ORDERS_RENDER_DIR", () => {
        assert.equal(renderMode({}), undefined);
        assert.equal(renderMode({ [RENDER_DIR_ENV]: " " }), undefined);
        assert.deepEqual(renderMode({ [RENDER_DIR_ENV]: "/tmp/out" }), { directory: "/tmp/out" });
        assert.throws(() => renderMode({ [RENDER_DIR_ENV]: "out" }), /ORDERS_RENDER_DIR=out: must be an absolute directory/);
    });

    it("needs every image by digest, the canary's too: nothing is built", () => {
        try {
            parseStackConfig(rawStackConfig("prod"), "prod", appCatalog, { render: true });
            assert.fail("expected a ConfigError");
        } catch (err) {
            assert.ok(err instanceof ConfigError, String(err));
            assert.deepEqual(
                err.problems.map((p) => p.split(" = ")[0]),
                ["orders-platform:apps.users.image", "orders-platform:apps.users.canary.image", "orders-platform:apps.orders.image"],
            );
            assert.match(err.problems[0], /is required when rendering manifests \(nothing is built\)/);
        }
        assert.doesNotThrow(() => parseStackConfig(rawStackConfig("staging", IMAGES), "staging", appCatalog, { render: true }));
    });
});

describe("render script", () => {
    const APPS = ["orders", "users"];
    const ref = (app: string, version: string, c: string) => `registry.example.com/orders/${app}:${version}@${digest(c)}`;

    it("parses its arguments", () => {
        assert.deepEqual(parseRenderArgs(["--stack", "prod", "--out", "out/prod"]), {
            stack: "prod",
            out: "out/prod",
            images: [],
            policy: true,
        });
        assert.deepEqual(parseRenderArgs(["--stack", "dev", "--out", "o", "--no-policy", "--state-dir", "s"]), {
            stack: "dev",
            out: "o",
            images: [],
            policy: false,
            stateDir: "s",
        });
        assert.throws(
            () => parseRenderArgs(["--stack", "dev"]),
            /--out <dir> is required\nusage: npm run render -- --stack <name> --out <dir>/,
        );
        assert.throws(() => parseRenderArgs(["--out", "o"]), /--stack <name> is required\nusage: npm run render/);
        assert.throws(() => parseRenderArgs(["--stack", "dev", "--out"]), /Option '--out <value>' argument missing\nusage: npm run render/);
        assert.throws(() => parseRenderArgs(["prod", "--stack", "dev", "--out", "o"]), /unexpected argument "prod"\nusage: npm run render/);
    });

    it("takes each app's image by digest with --image, the canary's with <app>:canary", () => {
        const args = parseRenderArgs(
            [
                "--stack",
                "prod",
                "--out",
                "o",
                "--image",
                `users=${ref("users", "1.0.0", "a")}`,
                "--image",
                `users:canary=${ref("users", "1.1.0", "b")}`,
                "--image",
                `orders=${ref("orders", "1.0.0", "c")}`,
            ],
            APPS,
        );
        assert.deepEqual(args.images, [
            { app: "users", canary: false, reference: ref("users", "1.0.0", "a") },
            { app: "users", canary: true, reference: ref("users", "1.1.0", "b") },
            { app: "orders", canary: false, reference: ref("orders", "1.0.0", "c") },
        ]);
        assert.deepEqual(imageConfig(args.images), {
            "apps.users.image": ref("users", "1.0.0", "a"),
            "apps.users.canary.image": ref("users", "1.1.0", "b"),
            "apps.orders.image": ref("orders", "1.0.0", "c"),
        });
    });

    it("refuses an --image for an app that does not exist, or one not pinned by digest", () => {
        assert.throws(
            () => parseImageFlag(`billing=${ref("billing", "1.0.0", "a")}`, APPS),
            /no app "billing" in apps\/ \(apps: orders, users\)/,
        );
        assert.throws(
            () => parseImageFlag(`users:stable=${ref("users", "1.0.0", "a")}`, APPS),
            /"users:stable" must be an app or <app>:canary/,
        );
        assert.throws(() => parseImageFlag(ref("users", "1.0.0", "a"), APPS), /must be <app>=<reference>@sha256:<digest>/);
        for (const bad of ["registry.example.com/orders/users:1.0.0", `@${digest("a")}`, "users@sha256:ABC", `users@${digest("a")}0`])
            assert.throws(
                () => parseImageFlag(`users=${bad}`, APPS),
                /the image must be pinned by digest, <reference>@sha256:<64 lowercase hex>/,
                bad,
            );
    });

    it("names every image a stack lacks, with its version", () => {
        assert.deepEqual(missingImages(readStackFile("prod")), [
            { target: "users", version: "1.0.0" },
            { target: "users:canary", version: "1.1.0" },
            { target: "orders", version: "1.0.0" },
        ]);
        assert.deepEqual(missingImages(applyConfigOverrides(readStackFile("staging"), IMAGES)), []);
    });

    it("says which images are missing and the flag to pass, before running anything", async () => {
        const out = path.join(os.tmpdir(), "never-written");
        for (const stack of ["dev", "staging", "prod"]) {
            await assert.rejects(renderStack(stack, out), (err: Error) => {
                assert.match(
                    err.message,
                    new RegExp(`^no image for users(, users:canary)?, orders in stack "${stack}": nothing is built when rendering`),
                );
                assert.match(err.message, /\n {6}--image users=<registry>\/users:\d+\.\d+\.\d+@sha256:<digest> \\\n/);
                assert.match(err.message, /\n {6}--image orders=<registry>\/orders:\d+\.\d+\.\d+@sha256:<digest>\n/);
                return true;
            });
        }
        await assert.rejects(renderStack("prod", out), /--image users:canary=<registry>\/users:1\.1\.0@sha256:<digest>/);
        assert.equal(fs.existsSync(out), false);
    });

    it("refuses a canary image for a stack without a canary, and the same image twice", async () => {
        const out = path.join(os.tmpdir(), "never-written");
        const canary = { app: "users", canary: true, reference: ref("users", "1.1.0", "b") };
        await assert.rejects(
            renderStack("staging", out, { images: [canary] }),
            /stack "staging" has no canary for users \(apps\.users\.canary\)/,
        );
        await assert.rejects(renderStack("prod", out, { images: [canary, canary] }), /--image users:canary= is given twice/);
        assert.equal(fs.existsSync(out), false);
    });

    it("renders a shipped stack with the images given by flags (the config check passes)", async () => {
        const saved = { p: process.env.PULUMI_CONFIG_PASSPHRASE, f: process.env.PULUMI_CONFIG_PASSPHRASE_FILE };
        delete process.env.PULUMI_CONFIG_PASSPHRASE;
        delete process.env.PULUMI_CONFIG_PASSPHRASE_FILE;
        const images = [
            { app: "users", canary: false, reference: ref("users", "1.0.0", "a") },
            { app: "users", canary: true, reference: ref("users", "1.1.0", "b") },
            { app: "orders", canary: false, reference: ref("orders", "1.0.0", "c") },
        ];
        try {
            // The next check after the config is the passphrase: reaching it means the config passed.
            await assert.rejects(
                renderStack("prod", path.join(os.tmpdir(), "never-written"), { images }),
                /^Error: set PULUMI_CONFIG_PASSPHRASE/,
            );
            await assert.rejects(
                renderStack("prod", path.join(os.tmpdir(), "never-written"), {
                    images: [{ ...images[0], reference: ref("users", "9.9.9", "a") }, ...images.slice(1)],
                }),
                (err: Error) => {
                    assert.ok(err instanceof ConfigError, String(err));
                    assert.match(err.message, /orders-platform:apps\.users\.image = .*its tag 9\.9\.9 differs from version 1\.0\.0/);
                    assert.match(err.message, /\(--image users= sets orders-platform:apps\.users\.image; /);
                    return true;
                },
            );
        } finally {
            if (saved.p !== undefined) process.env.PULUMI_CONFIG_PASSPHRASE = saved.p;
            if (saved.f !== undefined) process.env.PULUMI_CONFIG_PASSPHRASE_FILE = saved.f;
        }
    });

    it("names files like the provider: <apiVersion>-<kind>-<namespace|default>-<name>.yaml", () => {
        assert.equal(
            renderedFileName({ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "users", namespace: "orders-apps" } }),
            "apps_v1-deployment-orders-apps-users.yaml",
        );
        assert.equal(
            renderedFileName({
                apiVersion: "rbac.authorization.k8s.io/v1",
                kind: "ClusterRole",
                metadata: { name: "orders-platform-viewer" },
            }),
            "rbac.authorization.k8s.io_v1-clusterrole-default-orders-platform-viewer.yaml",
        );
    });

    it("clears only the provider's sub-directories of an earlier render, and lists what is there", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-out-"));
        try {
            fs.mkdirSync(path.join(out, "1-manifest"));
            fs.writeFileSync(path.join(out, "1-manifest", "v1-namespace-default-gone.yaml"), "");
            fs.writeFileSync(path.join(out, "kustomization.yaml"), "resources: []\n");
            clearRenderDirectory(out);
            assert.deepEqual(fs.readdirSync(out), ["kustomization.yaml"]);
            fs.mkdirSync(path.join(out, "0-crd"));
            fs.mkdirSync(path.join(out, "1-manifest"));
            fs.writeFileSync(path.join(out, "1-manifest", "v1-secret-orders-data-x.yaml"), "");
            fs.writeFileSync(path.join(out, "0-crd", "apiextensions.k8s.io_v1-customresourcedefinition-default-x.yaml"), "");
            assert.deepEqual(renderedFiles(out), [
                "0-crd/apiextensions.k8s.io_v1-customresourcedefinition-default-x.yaml",
                "1-manifest/v1-secret-orders-data-x.yaml",
            ]);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("finds the stack's objects that have no manifest (a provider without alwaysRender skips unchanged ones)", () => {
        const out = fs.mkdtempSync(path.join(os.tmpdir(), "render-out-"));
        try {
            fs.mkdirSync(path.join(out, "1-manifest"));
            fs.writeFileSync(path.join(out, "1-manifest", "v1-namespace-default-orders-apps.yaml"), "");
            const deployment = {
                resources: [
                    { type: "pulumi:providers:kubernetes", custom: true, outputs: {} },
                    { type: "kubernetes:helm.sh/v4:Chart", custom: false, outputs: {} },
                    {
                        type: "kubernetes:core/v1:Namespace",
                        custom: true,
                        outputs: { apiVersion: "v1", kind: "Namespace", metadata: { name: "orders-apps" } },
                    },
                    {
                        type: "kubernetes:apiextensions.k8s.io/v1:CustomResourceDefinition",
                        custom: true,
                        outputs: {
                            apiVersion: "apiextensions.k8s.io/v1",
                            kind: "CustomResourceDefinition",
                            metadata: { name: "gateways.networking.istio.io" },
                        },
                    },
                    { type: "random:index/randomPassword:RandomPassword", custom: true, outputs: { result: "x" } },
                ],
            };
            assert.deepEqual(missingManifests(deployment, out), [
                "0-crd/apiextensions.k8s.io_v1-customresourcedefinition-default-gateways.networking.istio.io.yaml",
            ]);
        } finally {
            fs.rmSync(out, { recursive: true, force: true });
        }
    });

    it("writes the stack file's config for the render stack and keeps its encryption salt", () => {
        const config = { "orders-platform:environment": "dev", "orders-platform:cluster": { provider: "kind" } };
        const first = renderStackSettings(config, undefined);
        assert.doesNotMatch(first, /encryptionsalt/);
        const second = renderStackSettings(config, "encryptionsalt: v1:abc:def\nconfig: {}\n");
        assert.match(second, /^encryptionsalt: v1:abc:def\nconfig:\n {2}orders-platform:environment: dev\n/);
    });
});
