// Real-engine test of `npm run render` (not picked up by the mock suite: no `.test.ts`). Needs the
// engine toolchain (scripts/engine: `eval "$(bash scripts/engine/cluster.sh env)"` puts the built
// `pulumi` on PATH and sets PULUMI_HOME) and `go` for the stand-in charts' CRDs; no cluster is used.
//   npx mocha --require tsx/cjs test/engine/render.engine.ts
//
// Renders the staging stack (apps by digest, every chart group from the stand-in charts) with the
// policy pack, and checks the directory: the provider's layout, one object per file named after
// the object, every object the program declares, nothing but the charts' objects besides, and
// the same files again from a second render into the same directory.
import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import * as semver from "semver";
import { parseAllDocuments } from "yaml";
import { CHARTS } from "../../components/versions";
import { PROJECT_DIR } from "../../scripts/lib/stackFile";
import { RENDER_SUBDIRS, renderedPath, renderStack, type RenderResult } from "../../scripts/render";
import type { ObjectIdentity, ProgramObjects } from "./programObjects";
import { assembleStandInCharts } from "./standInCharts";

// An EKS stack: in render mode it needs only the Kubernetes and random providers (no cloud, and no
// local token issuer as dev has), and it shows what a GitOps team would render.
const STACK = "staging";
const REGISTRY = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/orders-platform/staging";
const digest = (c: string) => `sha256:${c.repeat(64)}`;

function renderConfig(chartsDir: string): Record<string, unknown> {
    const config: Record<string, unknown> = {
        "apps.users.image": `${REGISTRY}/users:1.1.0@${digest("a")}`,
        "apps.orders.image": `${REGISTRY}/orders:1.0.0@${digest("b")}`,
    };
    for (const group of Object.keys(CHARTS)) config[`charts.${group}.source`] = chartsDir;
    return config;
}

const expectedPath = renderedPath;

/** Version of the Kubernetes provider the engine toolchain built (scripts/engine: versions.env), if any. */
function harnessProviderVersion(): string | undefined {
    const root = process.env.ORDERS_ENGINE_ROOT;
    const file = root && path.join(root, "versions.env");
    if (!file || !fs.existsSync(file)) return undefined;
    return /^(?:ENGINE_)?K8S_PROVIDER_VERSION=(\S+)$/m.exec(fs.readFileSync(file, "utf8"))?.[1];
}

describe("render (real engine)", function () {
    this.timeout(30 * 60_000);
    let work: string;
    let out: string;
    let config: Record<string, unknown>;
    let first: RenderResult;

    before(async () => {
        work = fs.mkdtempSync(path.join(os.tmpdir(), "orders-render-engine-"));
        out = path.join(work, "out");
        const chartsDir = path.join(work, "charts");
        assembleStandInCharts(chartsDir);
        config = renderConfig(chartsDir);
        process.env.PULUMI_CONFIG_PASSPHRASE ??= "render-engine-test";
        first = await renderStack(STACK, out, { stateDir: path.join(work, "state"), config });
    });

    after(() => {
        if (work && !process.env.KEEP_RENDER) fs.rmSync(work, { recursive: true, force: true });
    });

    it("writes only the provider's layout: CustomResourceDefinitions under 0-crd, everything else under 1-manifest", () => {
        assert.deepEqual(fs.readdirSync(out).sort(), [...RENDER_SUBDIRS]);
        assert.ok(
            first.files.some((f) => f.startsWith("0-crd/")),
            "the stand-in charts' CRDs",
        );
        for (const file of first.files) {
            const docs = parseAllDocuments(fs.readFileSync(path.join(out, file), "utf8")).map((d) => d.toJS() as ObjectIdentity);
            assert.equal(docs.length, 1, `${file}: one object per file`);
            assert.equal(expectedPath(docs[0]), file, `${file} is named after its object`);
        }
    });

    it("renders every object the program declares, and besides them only the charts' objects", () => {
        const program = JSON.parse(
            execFileSync(process.execPath, ["--import", "tsx", path.join(__dirname, "programObjects.ts"), STACK, JSON.stringify(config)], {
                cwd: PROJECT_DIR,
                encoding: "utf8",
                maxBuffer: 64 * 1024 * 1024,
            }),
        ) as ProgramObjects;
        const declared = new Set(program.objects.map(expectedPath));
        assert.ok(declared.size > 30, `${declared.size} objects declared`);
        const rendered = new Set(first.files);
        assert.deepEqual(
            [...declared].filter((f) => !rendered.has(f)),
            [],
            "declared but not rendered",
        );
        for (const file of first.files.filter((f) => !declared.has(f))) {
            const object = parseAllDocuments(fs.readFileSync(path.join(out, file), "utf8"))[0].toJS() as ObjectIdentity;
            const namespace = object.metadata.namespace;
            assert.ok(
                namespace === undefined || program.chartNamespaces.includes(namespace),
                `${file}: not the program's, and not in a chart's namespace (${program.chartNamespaces.join(", ")})`,
            );
        }
        assert.deepEqual(
            first.secrets,
            first.files.filter((f) => f.startsWith("1-manifest/v1-secret-")),
        );
        assert.ok(first.secrets.length > 0, "the database and Grafana Secrets are rendered (and reported)");
    });

    it("a second render into the same directory writes the same files with the same passwords", async function () {
        // The harness's provider plugin is built from the newest source the Go proxy serves; render
        // mode rewrites unchanged objects only from 4.26 on (alwaysRender). The locked SDK's plugin has it.
        const provider = harnessProviderVersion();
        if (provider && semver.lt(provider, "4.26.0")) {
            process.stdout.write(`      | skipped: the harness's Kubernetes provider is ${provider}; alwaysRender needs 4.26 or newer\n`);
            this.skip();
        }
        const secretsBefore = Object.fromEntries(first.secrets.map((f) => [f, fs.readFileSync(path.join(out, f), "utf8")]));
        const second = await renderStack(STACK, out, { stateDir: path.join(work, "state"), config });
        assert.deepEqual(second.files, first.files);
        for (const f of second.secrets) assert.equal(fs.readFileSync(path.join(out, f), "utf8"), secretsBefore[f], `${f} changed`);
    });
});
