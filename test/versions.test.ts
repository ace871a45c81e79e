// The versions module is the only place a bump happens, and Renovate can bump every entry of it.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { CHARTS, EKS, EKS_STANDARD_SUPPORT_ENDS, IMAGES, TOOLS } from "../components/versions";
import { parseChartSource } from "../components/chartSource";
import { PROJECT_ROOT } from "./harness";

interface RenovateManager {
    customType: string;
    managerFilePatterns: string[];
    matchStrings: string[];
    datasourceTemplate?: string;
}

interface ExtractedDep {
    datasource: string;
    depName: string;
    currentValue: string;
    currentDigest?: string;
    registryUrl?: string;
}

const VERSIONS_FILE = "components/versions.ts";
const renovate = JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "renovate.json"), "utf8"));

/** Renovate's reading of a file pattern: `/.../` is a regex, anything else a glob (only exact paths used here). */
function matchesFile(pattern: string, file: string): boolean {
    const regex = /^\/(.*)\/$/.exec(pattern);
    return regex ? new RegExp(regex[1]).test(file) : pattern === file;
}

/** What Renovate's regex managers extract from a file (named groups, one dependency per match). */
function extract(file: string): ExtractedDep[] {
    const text = fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
    const deps: ExtractedDep[] = [];
    for (const m of renovate.customManagers as RenovateManager[]) {
        if (m.customType !== "regex" || !m.managerFilePatterns.some((p) => matchesFile(p, file))) continue;
        for (const source of m.matchStrings) {
            for (const match of text.matchAll(new RegExp(source, "g"))) {
                const g = match.groups ?? {};
                deps.push({
                    datasource: g.datasource ?? m.datasourceTemplate ?? "",
                    depName: g.depName,
                    currentValue: g.currentValue,
                    currentDigest: g.currentDigest,
                    registryUrl: g.registryUrl,
                });
            }
        }
    }
    return deps;
}

describe("versions module and Renovate", () => {
    const deps = extract(VERSIONS_FILE);
    const find = (datasource: string, depName: string) => deps.filter((d) => d.datasource === datasource && d.depName === depName);

    it("Renovate's custom managers find every chart of the versions module, with its repository", () => {
        for (const [group, pin] of Object.entries(CHARTS)) {
            const found = find("helm", pin.chart);
            assert.equal(found.length, 1, `charts.${group} (${pin.chart}) is matched exactly once`);
            assert.equal(found[0].currentValue, pin.version, group);
            assert.equal(found[0].registryUrl, pin.source, group);
        }
    });

    it("Renovate's custom managers find every image with its tag and digest", () => {
        for (const [key, pin] of Object.entries(IMAGES)) {
            const found = find("docker", pin.repository);
            assert.equal(found.length, 1, `images.${key} (${pin.repository}) is matched exactly once`);
            assert.equal(found[0].currentValue, pin.tag, key);
            assert.equal(found[0].currentDigest, pin.digest, key);
        }
    });

    it("Renovate's custom managers find every tool release and the EKS minor", () => {
        for (const [key, pin] of Object.entries(TOOLS)) {
            const found = find("github-releases", pin.project);
            assert.equal(found.length, 1, `tools.${key}`);
            assert.equal(found[0].currentValue, pin.version, key);
        }
        const eks = find("endoflife-date", EKS.product);
        assert.deepEqual(
            eks.map((d) => d.currentValue),
            [EKS.version],
        );
    });

    it("nothing in the versions module escapes the managers: every pin literal is extracted", () => {
        const pins = Object.keys(CHARTS).length + Object.keys(IMAGES).length + Object.keys(TOOLS).length + 1;
        assert.equal(deps.length, pins, `extracted ${deps.map((d) => d.depName).join(", ")}`);
    });

    it("groups the Istio release and kind with its node image and kubectl; Pulumi packages move together", () => {
        const rules = renovate.packageRules as Array<Record<string, any>>;
        const groupOf = (name: string) => rules.find((r) => (r.matchDepNames ?? []).includes(name))?.groupName;
        assert.equal(groupOf(CHARTS.istio.chart), "istio");
        assert.equal(groupOf(TOOLS.kind.project), "kind");
        assert.equal(groupOf(IMAGES.kindNode.repository), "kind");
        assert.equal(groupOf(TOOLS.kubectl.project), "kind");
        assert.ok(rules.some((r) => r.groupName === "pulumi" && r.matchPackageNames.includes("@pulumi/**")));
        assert.ok(rules.some((r) => r.matchPackageNames?.includes("@pulumi/pulumi") && r.allowedVersions === "<3.249.0"));
        assert.ok(renovate.extends.includes("helpers:pinGitHubActionDigestsToSemver"), "workflow actions stay SHA-pinned");
    });

    it("pins are well-formed: semver charts from https repositories, images by tag and sha256 digest", () => {
        for (const pin of Object.values(CHARTS)) {
            assert.match(pin.version, /^\d+\.\d+\.\d+$/);
            assert.equal(parseChartSource(pin.source)?.kind, "repository", pin.source);
        }
        for (const pin of Object.values(IMAGES)) {
            assert.match(pin.repository, /^[a-z0-9.-]+\.[a-z]+\/[a-z0-9./-]+$/, "fully qualified repository");
            assert.notEqual(pin.tag, "latest");
            assert.match(pin.digest, /^sha256:[a-f0-9]{64}$/);
        }
        // The Istio charts come from Istio's successor of the retired GCS bucket.
        assert.doesNotMatch(CHARTS.istio.source, /storage\.googleapis\.com/);
        // PostgreSQL stays on the data directory's major version and Debian release.
        assert.match(IMAGES.postgres.tag, /^17\.\d+-bookworm$/);
    });

    it("kind, its node image and kubectl are in step; the default EKS minor is in the support calendar", () => {
        const nodeMinor = /^v(\d+\.\d+)\./.exec(IMAGES.kindNode.tag)?.[1];
        assert.equal(/^v(\d+\.\d+)\./.exec(TOOLS.kubectl.version)?.[1], nodeMinor, "kubectl at the node image's minor");
        assert.equal(EKS.version, nodeMinor, "dev (kind) runs the Kubernetes minor staging and prod run on EKS");
        assert.ok(EKS_STANDARD_SUPPORT_ENDS[EKS.version], "the EKS default has a known end of standard support");
    });

    it("no other file pins a chart version, chart repository or third-party image", () => {
        const files = [
            "index.ts",
            ...listFiles("components"),
            ...listFiles("scripts"),
            "Pulumi.dev.yaml",
            "Pulumi.staging.yaml",
            "Pulumi.prod.yaml",
        ];
        const offenders: string[] = [];
        for (const file of files.filter((f) => f !== VERSIONS_FILE && /\.(ts|ya?ml|sh)$/.test(f))) {
            const text = fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8");
            for (const pin of [...Object.values(CHARTS).map((c) => c.source), ...Object.values(IMAGES).map((i) => i.repository)]) {
                if (text.includes(pin)) offenders.push(`${file}: ${pin}`);
            }
            if (/(registry|postgres|kindest\/node|aws-cli|google-cloud-cli):\d/.test(text)) offenders.push(`${file}: image tag`);
        }
        assert.deepEqual(offenders, []);
    });
});

function listFiles(dir: string): string[] {
    return fs
        .readdirSync(path.join(PROJECT_ROOT, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile())
        .map((e) => path.relative(PROJECT_ROOT, path.join(e.parentPath, e.name)));
}
