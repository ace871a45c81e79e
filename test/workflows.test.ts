// The GitHub workflows are code too: parse them and check the pipeline's shape and its safety
// rules (pinned actions, least privilege, OIDC only, serialized deploys, policy-checked previews).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseDocument } from "yaml";

const root = path.resolve(__dirname, "..");
const dir = path.join(root, ".github", "workflows");

/**
 * The only actions the workflows may use, each pinned to the commit of a reviewed release.
 * Bumping an action = updating its SHA and tag here and in the workflows.
 */
const PINNED_ACTIONS: Record<string, { sha: string; tag: string }> = {
    "actions/checkout": { sha: "3d3c42e5aac5ba805825da76410c181273ba90b1", tag: "v7.0.1" },
    "actions/setup-node": { sha: "820762786026740c76f36085b0efc47a31fe5020", tag: "v7.0.0" },
    "pulumi/actions": { sha: "8e5e406f4007fca908480587cb9893c07090f58d", tag: "v7.0.0" },
    "aws-actions/configure-aws-credentials": { sha: "e6de054238d6b7531b4efff3b6587d9aade6a06c", tag: "v6.2.3" },
    "google-github-actions/auth": { sha: "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", tag: "v3.0.0" },
    "aquasecurity/trivy-action": { sha: "ed142fd0673e97e23eac54620cfb913e5ce36c25", tag: "v0.36.0" },
    "hadolint/hadolint-action": { sha: "2332a7b74a6de0dda2e2221d575162eba76ba5e5", tag: "v3.3.0" },
    "helm/kind-action": { sha: "ef37e7f390d99f746eb8b610417061a60e82a6cc", tag: "v1.14.0" },
    "docker/setup-buildx-action": { sha: "37fe631027851001ddb9b187196cc803df7f5f0e", tag: "v4.3.0" },
};
const OIDC_ACTIONS = ["aws-actions/configure-aws-credentials", "google-github-actions/auth"];
const USES = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)(\/[^@\s]+)?@([0-9a-f]{40})$/;

type Dict = Record<string, any>;
interface Step extends Dict {
    uses?: string;
    run?: string;
    with?: Dict;
    if?: string;
}
interface Job extends Dict {
    needs?: string | string[];
    steps?: Step[];
    permissions?: Dict | string;
}
interface Workflow {
    file: string;
    text: string;
    doc: Dict;
    jobs: Record<string, Job>;
}

function load(file: string): Workflow {
    const text = fs.readFileSync(path.join(dir, file), "utf8");
    const parsed = parseDocument(text, { uniqueKeys: true });
    assert.deepEqual(
        parsed.errors.map((e) => e.message),
        [],
        `${file} must be valid YAML`,
    );
    const doc = parsed.toJS() as Dict;
    return { file, text, doc, jobs: doc.jobs as Record<string, Job> };
}

const needsOf = (job: Job): string[] => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);
const actionOf = (step: Step) => step.uses?.split("@")[0].split("/").slice(0, 2).join("/");
const stepsUsing = (job: Job, action: string) => (job.steps ?? []).filter((s) => actionOf(s) === action);
const runText = (job: Job) => (job.steps ?? []).map((s) => s.run ?? "").join("\n");

/** Every combination of a job's matrix (plain axes; `include`/`exclude` are not used here). */
function matrixCombos(job: Job): Dict[] {
    const matrix = job.strategy?.matrix as Dict | undefined;
    if (!matrix) return [{}];
    assert.ok(!("include" in matrix) && !("exclude" in matrix), "matrix include/exclude not supported by this test");
    return Object.entries(matrix).reduce<Dict[]>(
        (acc, [axis, values]) => acc.flatMap((c) => (values as unknown[]).map((v) => ({ ...c, [axis]: v }))),
        [{}],
    );
}

/** Substitutes `${{ matrix.x }}` with the combination's values, recursively. */
function withMatrix<T>(value: T, combo: Dict): T {
    if (typeof value === "string") {
        return value.replace(/\$\{\{\s*matrix\.([A-Za-z0-9_-]+)\s*\}\}/g, (m, k: string) => (k in combo ? String(combo[k]) : m)) as T;
    }
    if (Array.isArray(value)) return value.map((v) => withMatrix(v, combo)) as T;
    if (value && typeof value === "object")
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withMatrix(v, combo)])) as T;
    return value;
}

/** Transitive `needs` of a job. */
function ancestors(wf: Workflow, name: string, seen = new Set<string>()): Set<string> {
    for (const n of needsOf(wf.jobs[name])) {
        if (!seen.has(n)) {
            seen.add(n);
            ancestors(wf, n, seen);
        }
    }
    return seen;
}

/** Stacks a job deploys: pulumi/actions `up`, or the dev stack wrapper `npm run up`. */
function deployedStacks(job: Job): string[] {
    const stacks = stepsUsing(job, "pulumi/actions")
        .filter((s) => s.with?.command === "up" || s.with?.command === "update")
        .map((s) => String(s.with?.["stack-name"]));
    if (/\bnpm run up\b/.test(runText(job))) stacks.push("dev");
    for (const m of runText(job).matchAll(/pulumi up\b[^\n]*--stack[ =](\S+)/g)) stacks.push(m[1]);
    return stacks;
}

const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
const lockfile = JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as Dict;
const pulumiCliVersion: string = lockfile.packages["node_modules/pulumi"].version;
const appsWithFacts = fs
    .readdirSync(path.join(root, "apps"))
    .filter((d) => fs.existsSync(path.join(root, "apps", d, "package.json")))
    .filter((d) => JSON.parse(fs.readFileSync(path.join(root, "apps", d, "package.json"), "utf8")).ordersPlatform)
    .sort();

describe("GitHub workflows", () => {
    it("exist: pr.yml and deploy.yml", () => {
        assert.deepEqual(files.sort(), ["deploy.yml", "pr.yml"]);
    });

    for (const file of files) {
        describe(file, () => {
            const wf = load(file);

            it("has a name, triggers and jobs with steps", () => {
                assert.equal(typeof wf.doc.name, "string");
                assert.ok(wf.doc.on, "`on:` missing");
                assert.ok(Object.keys(wf.jobs).length > 0);
                for (const [name, job] of Object.entries(wf.jobs)) {
                    assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${name} has no steps`);
                    assert.match(String(job["runs-on"]), /^ubuntu-\d{2}\.\d{2}$/, `${name}: runs-on must be a pinned runner image`);
                    assert.equal(typeof job["timeout-minutes"], "number", `${name}: timeout-minutes missing`);
                    for (const s of job.steps!)
                        assert.ok((s.uses === undefined) !== (s.run === undefined), `${name}: a step needs exactly one of uses/run`);
                }
            });

            it("uses only allow-listed actions pinned by full commit SHA with the release tag as comment", () => {
                const lines = wf.text.split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l));
                assert.ok(lines.length > 0);
                for (const line of lines) {
                    const m = /uses:\s*(\S+)\s*(#\s*(\S+))?\s*$/.exec(line);
                    assert.ok(m, `cannot read ${line.trim()}`);
                    const ref = USES.exec(m[1]);
                    assert.ok(ref, `${file}: "${m[1]}" must be owner/repo[/path]@<40-hex commit sha>`);
                    const pin = PINNED_ACTIONS[ref[1]];
                    assert.ok(pin, `${file}: ${ref[1]} is not an allow-listed action`);
                    assert.equal(ref[3], pin.sha, `${file}: ${ref[1]} must be pinned to ${pin.sha} (${pin.tag})`);
                    assert.equal(m[3], pin.tag, `${file}: ${ref[1]}@${ref[3]} needs the comment "# ${pin.tag}"`);
                }
                // The parsed document agrees with the line scan (no flow-style `uses` slipping past it).
                const parsedUses = Object.values(wf.jobs).flatMap((j) => (j.steps ?? []).filter((s) => s.uses).map((s) => s.uses!));
                assert.equal(parsedUses.length, lines.length);
                for (const u of parsedUses) assert.match(u, USES);
            });

            it("declares read-only default permissions and grants write scopes only where needed", () => {
                assert.deepEqual(wf.doc.permissions, { contents: "read" });
                for (const [name, job] of Object.entries(wf.jobs)) {
                    assert.notEqual(typeof job.permissions, "string", `${name}: permissions must be a map (never read-all/write-all)`);
                    const perms = (job.permissions ?? {}) as Dict;
                    const usesOidc = OIDC_ACTIONS.some((a) => stepsUsing(job, a).length > 0);
                    const comments = stepsUsing(job, "pulumi/actions").some((s) => s.with?.["comment-on-pr"] === true);
                    assert.equal(perms["id-token"] === "write", usesOidc, `${name}: id-token: write exactly when OIDC is used`);
                    assert.equal(
                        perms["pull-requests"] === "write",
                        comments,
                        `${name}: pull-requests: write exactly when it comments on the PR`,
                    );
                    for (const [scope, level] of Object.entries(perms)) {
                        if (scope === "id-token" || scope === "pull-requests") continue;
                        assert.notEqual(level, "write", `${name}: ${scope}: write is not needed`);
                    }
                }
            });

            it("uses cloud credentials through OIDC only, never long-lived keys", () => {
                for (const key of ["aws-access-key-id", "aws-secret-access-key", "aws-session-token", "credentials_json"]) {
                    assert.ok(!wf.text.includes(`${key}:`), `${file}: ${key} is a long-lived credential`);
                }
                for (const v of [
                    "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY",
                    "GOOGLE_CREDENTIALS",
                    "GOOGLE_APPLICATION_CREDENTIALS_JSON",
                ]) {
                    assert.ok(!wf.text.includes(v), `${file}: ${v} must not be set`);
                }
                for (const [name, job] of Object.entries(wf.jobs)) {
                    for (const s of stepsUsing(job, "aws-actions/configure-aws-credentials")) {
                        assert.match(
                            String(s.with?.["role-to-assume"]),
                            /^\$\{\{ vars\.[A-Z_]+ \}\}$/,
                            `${name}: AWS role from a repository/environment variable`,
                        );
                    }
                    for (const s of stepsUsing(job, "google-github-actions/auth")) {
                        assert.match(
                            String(s.with?.workload_identity_provider),
                            /^\$\{\{ vars\.[A-Z_]+ \}\}$/,
                            `${name}: GCP WIF provider from a variable`,
                        );
                    }
                }
            });

            it("lets `needs` refer only to existing jobs, without cycles", () => {
                for (const [name, job] of Object.entries(wf.jobs)) {
                    for (const n of needsOf(job)) assert.ok(n in wf.jobs, `${name} needs unknown job ${n}`);
                    assert.ok(!ancestors(wf, name).has(name), `${name} depends on itself`);
                }
            });

            it("runs every pulumi preview/up with the policy pack and the stack's policy config", () => {
                for (const [name, job] of Object.entries(wf.jobs)) {
                    for (const combo of matrixCombos(job)) {
                        for (const step of stepsUsing(job, "pulumi/actions").map((s) => withMatrix(s, combo))) {
                            const w = step.with ?? {};
                            const stack = String(w["stack-name"]);
                            assert.match(stack, /^(dev|staging|prod)$/, `${name}: stack-name ${stack}`);
                            assert.equal(w.policyPacks, "policy", `${name}/${stack}: policyPacks`);
                            assert.equal(w.policyPackConfigs, `policy/config/${stack}.json`, `${name}/${stack}: policyPackConfigs`);
                            assert.ok(fs.existsSync(path.join(root, w.policyPackConfigs)), `${w.policyPackConfigs} exists`);
                            assert.equal(w.diff, true, `${name}/${stack}: --diff`);
                            assert.equal(w["pulumi-version"], pulumiCliVersion, `${name}: the CLI of the lockfile (${pulumiCliVersion})`);
                            assert.equal(w["cloud-url"], "${{ vars.PULUMI_BACKEND_URL }}", `${name}: configurable state backend`);
                        }
                        for (const m of withMatrix(runText(job), combo).matchAll(/pulumi (preview|up)\b[^\n]*/g)) {
                            const stack = /--stack[ =](\S+)|-s (\S+)/.exec(m[0]);
                            assert.ok(stack, `${name}: "${m[0]}" names no stack`);
                            const s = stack[1] ?? stack[2];
                            assert.ok(m[0].includes("--policy-pack policy"), `${name}: "${m[0]}" lacks --policy-pack policy`);
                            assert.ok(
                                m[0].includes(`--policy-pack-config policy/config/${s}.json`),
                                `${name}: "${m[0]}" lacks its policy config`,
                            );
                        }
                    }
                }
            });

            it("serializes deploys per stack and never cancels one half-way", () => {
                const groups = new Map<string, string>();
                for (const [name, job] of Object.entries(wf.jobs)) {
                    const stacks = deployedStacks(job);
                    if (stacks.length === 0) continue;
                    assert.equal(stacks.length, 1, `${name}: one stack per deploy job`);
                    const c = job.concurrency as Dict | undefined;
                    assert.ok(c && typeof c === "object", `${name}: concurrency missing`);
                    assert.equal(c["cancel-in-progress"], false, `${name}: cancel-in-progress must be false`);
                    assert.ok(
                        String(c.group).includes(stacks[0]) && !String(c.group).includes("${{"),
                        `${name}: a fixed group per stack, got ${c.group}`,
                    );
                    assert.ok(!groups.has(c.group), `${name} shares concurrency group ${c.group} with ${groups.get(c.group)}`);
                    groups.set(c.group, name);
                }
            });
        });
    }

    describe("pr.yml pipeline", () => {
        const wf = load("pr.yml");
        const stepOf = (job: Job, re: RegExp) => (job.steps ?? []).find((s) => s.run && re.test(s.run));

        it("runs on pull requests to main", () => {
            assert.deepEqual(wf.doc.on, { pull_request: { branches: ["main"] } });
        });

        it("installs from the lockfile, lints, typechecks and runs npm test against PostgreSQL", () => {
            const checks = wf.jobs.checks;
            const order = [/^npm ci\b/, /^npm run lint$/, /^npm run typecheck$/, /^npm test$/].map((re) =>
                checks.steps!.findIndex((s) => re.test(s.run ?? "")),
            );
            assert.ok(
                order.every((i) => i >= 0),
                `missing one of npm ci / lint / typecheck / test: ${order}`,
            );
            assert.deepEqual(
                [...order].sort((a, b) => a - b),
                order,
                "in this order",
            );
            assert.ok(!wf.text.includes("npm install"), "never npm install in CI");
            assert.equal(checks.services.postgres.env.POSTGRES_HOST_AUTH_METHOD, "trust");
            assert.equal(checks.services.postgres.env.POSTGRES_DB, "test");
            assert.deepEqual(checks.services.postgres.ports, ["5432:5432"]);
            assert.match(checks.services.postgres.image, /^postgres:\d+\.\d+-\w+$/, "pinned postgres image");
            assert.equal(stepOf(checks, /^npm test$/)!.env.PGHOST, "127.0.0.1");
        });

        it("lints every app's Dockerfile, builds it from apps/ and fails on fixable HIGH/CRITICAL vulnerabilities", () => {
            const image = wf.jobs.image;
            assert.deepEqual([...image.strategy.matrix.app].sort(), appsWithFacts, "one image per app in apps/");
            for (const combo of matrixCombos(image)) {
                const job = withMatrix(image, combo);
                const [lint] = stepsUsing(job, "hadolint/hadolint-action");
                assert.equal(lint.with!.dockerfile, `apps/${combo.app}/Dockerfile`);
                const build = stepOf(job, /docker (buildx )?build/)!
                    .run!.replace(/\s+/g, " ")
                    .trim();
                const tag = `orders-platform/${combo.app}:pr-\${{ github.event.pull_request.number }}`;
                assert.ok(build.includes(`--file apps/${combo.app}/Dockerfile`) && build.endsWith(" apps"), build);
                assert.ok(build.includes(`--tag ${tag}`) && build.includes("--load"), build);
                const [scan] = stepsUsing(job, "aquasecurity/trivy-action");
                assert.deepEqual(
                    {
                        "scan-type": scan.with!["scan-type"],
                        "image-ref": scan.with!["image-ref"],
                        severity: scan.with!.severity,
                        "ignore-unfixed": scan.with!["ignore-unfixed"],
                        "exit-code": scan.with!["exit-code"],
                    },
                    { "scan-type": "image", "image-ref": tag, severity: "HIGH,CRITICAL", "ignore-unfixed": true, "exit-code": "1" },
                );
                assert.match(String(scan.with!.version), /^v\d+\.\d+\.\d+$/, "pinned Trivy binary");
                const i = (s: Step) => job.steps!.indexOf(s);
                assert.ok(i(lint) < i(stepOf(job, /docker (buildx )?build/)!) && i(stepOf(job, /docker (buildx )?build/)!) < i(scan));
            }
        });

        it("previews staging and prod with --diff and the policy pack, commenting on the PR, after the checks", () => {
            const preview = wf.jobs.preview;
            assert.deepEqual(new Set(needsOf(preview)), new Set(["checks", "image"]));
            const seen: string[] = [];
            for (const combo of matrixCombos(preview)) {
                const [step] = stepsUsing(withMatrix(preview, combo), "pulumi/actions");
                assert.equal(step.with!.command, "preview");
                assert.equal(step.with!["comment-on-pr"], true);
                seen.push(step.with!["stack-name"]);
                // Credentials come before the preview that needs them.
                const steps = preview.steps!;
                const idx = (a: string) => steps.findIndex((s) => actionOf(s) === a);
                assert.ok(idx("aws-actions/configure-aws-credentials") < idx("pulumi/actions"));
                assert.ok(idx("google-github-actions/auth") < idx("pulumi/actions"));
            }
            assert.deepEqual(seen.sort(), ["prod", "staging"]);
            assert.match(
                preview.if,
                /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/,
                "no cloud preview for fork PRs",
            );
        });
    });

    describe("deploy.yml pipeline", () => {
        const wf = load("deploy.yml");
        const e2e = wf.jobs["e2e-dev"];

        it("runs on pushes to main", () => {
            assert.deepEqual((wf.doc.on as Dict).push, { branches: ["main"] });
            assert.ok(!("pull_request" in wf.doc.on) && !("pull_request_target" in wf.doc.on));
        });

        it("orders the pipeline dev e2e -> staging -> prod", () => {
            const byStack = Object.fromEntries(Object.entries(wf.jobs).map(([n, j]) => [deployedStacks(j)[0], n]));
            assert.deepEqual(Object.keys(byStack).sort(), ["dev", "prod", "staging"]);
            assert.ok(ancestors(wf, byStack.staging).has(byStack.dev), "staging needs the dev e2e");
            assert.deepEqual(needsOf(wf.jobs[byStack.prod]), [byStack.staging], "prod needs staging");
        });

        it("puts prod behind the production environment and staging behind staging", () => {
            const envName = (j: Job) => (typeof j.environment === "string" ? j.environment : j.environment?.name);
            assert.equal(envName(wf.jobs["deploy-prod"]), "production");
            assert.equal(envName(wf.jobs["deploy-staging"]), "staging");
            assert.equal(envName(e2e), undefined, "the throwaway e2e needs no approval");
            for (const name of ["deploy-staging", "deploy-prod"]) {
                const [up] = stepsUsing(wf.jobs[name], "pulumi/actions");
                assert.equal(up.with!.command, "up");
                assert.equal(up.id, "pulumi", "environment url reads the step's edgeUrl output");
            }
        });

        it("e2e: installs kind, runs the dev stack with a local file backend, waits, smoke-tests, tears down", () => {
            assert.match(e2e.env.PULUMI_BACKEND_URL, /^file:\/\//);
            assert.ok(e2e.env.PULUMI_CONFIG_PASSPHRASE);
            const [kind] = stepsUsing(e2e, "helm/kind-action");
            assert.equal(kind.with!.install_only, true, "the program creates the kind cluster itself");
            assert.match(String(kind.with!.version), /^v\d+\.\d+\.\d+$/);
            const steps = e2e.steps!;
            const idx = (re: RegExp) => steps.findIndex((s) => re.test(s.run ?? ""));
            const up = idx(/^npm run up$/);
            const rollout = idx(/kubectl -n orders-apps rollout status/);
            const smoke = idx(/\/api\/orders/);
            const down = idx(/npm run destroy/);
            assert.ok(steps.indexOf(kind) < up && up < rollout && rollout < smoke && smoke < down, `${[up, rollout, smoke, down]}`);
            assert.match(steps[rollout].run!, /for app in users orders/);
            const s = steps[smoke].run!;
            assert.match(s, /expect 201 POST \/api\/users/);
            assert.match(s, /expect 200 GET "\/api\/users\/\$user_id"/);
            assert.match(s, /expect 201 POST \/api\/orders/);
            assert.match(s, /expect 200 GET "\/api\/orders\/\$order_id"/);
            assert.match(s, /\{userId: \$userId, items: \[\{sku: "E2E-1", quantity: 2, unitPriceCents: 1299\}\]\}/);
            assert.match(s, /\{email: \$email, name: "E2E"\}/);
            assert.match(s, /set -euo pipefail/);
            assert.equal(steps[down].if, "always()", "tear down even when the smoke test fails");
        });
    });
});
