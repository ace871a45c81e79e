// The GitHub workflows are code too: parse them and check the pipeline's shape and its safety
// rules (pinned actions, least privilege, OIDC only, secrets only in the steps that run Pulumi
// and, for pull requests, only behind a preview environment; serialized deploys from main only;
// policy-checked previews posted by a job that runs no pull-request code). The two pieces of logic
// the workflows carry (the deploy step's deadline and signal handling, the comment script) are
// run here against fakes.
import { strict as assert } from "node:assert";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { parseDocument } from "yaml";
import { imageReference, IMAGES } from "../components/versions";
import { lockedPulumiCli, versionOutputs } from "../scripts/versions";

const root = path.resolve(__dirname, "..");
const dir = path.join(root, ".github", "workflows");

/** The only actions the workflows may use. Renovate keeps each pinned to a commit SHA with its release tag as comment. */
const ALLOWED_ACTIONS = new Set([
    "actions/checkout",
    "actions/setup-node",
    "actions/upload-artifact",
    "actions/download-artifact",
    "actions/github-script",
    "pulumi/actions",
    "aws-actions/configure-aws-credentials",
    "google-github-actions/auth",
    "aquasecurity/trivy-action",
    "hadolint/hadolint-action",
    "helm/kind-action",
    "docker/setup-buildx-action",
]);
const OIDC_ACTIONS = ["aws-actions/configure-aws-credentials", "google-github-actions/auth"];
const USES = /^([A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+)(\/[^@\s]+)?@([0-9a-f]{40})$/;
/** Environments a pull request's code may run in: required reviewers approve every run. */
const PREVIEW_ENVIRONMENTS: Record<string, string> = { "preview-staging": "staging", "preview-prod": "prod" };
/** Environments of the deploys: they accept only the main branch. */
const DEPLOY_ENVIRONMENTS: Record<string, string> = { staging: "staging", production: "prod" };

type Dict = Record<string, any>;
interface Step extends Dict {
    uses?: string;
    run?: string;
    with?: Dict;
    env?: Dict;
    if?: string;
    id?: string;
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
const stepRunning = (job: Job, re: RegExp) => (job.steps ?? []).find((s) => s.run !== undefined && re.test(s.run));
const envName = (j: Job): string | undefined => (typeof j.environment === "string" ? j.environment : j.environment?.name);
const triggers = (wf: Workflow) => Object.keys(wf.doc.on as Dict);
/** `pulumi preview|up ...` command lines of a run script. */
const pulumiCommands = (run: string) =>
    [...run.matchAll(/^[ \t]*(?:timeout (?:[^\n]*? )?)?pulumi (preview|up)\b[^\n]*/gm)].map((m) => ({ command: m[1], line: m[0].trim() }));
const stackOf = (line: string) => /--stack[ =](\S+)/.exec(line)?.[1];
/** Steps that run Pulumi: the CLI itself, or the drift check (scripts/drift.ts detect), which runs only read-only commands. */
const RUNS_PULUMI = /^\s*((timeout [^\n]*)?pulumi |npx --no-install tsx scripts\/drift\.ts detect )/m;

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

/** Whether a step runs in a matrix combination: no `if`, or `matrix.<axis> == '<value>'`. */
function runsIn(step: Step, combo: Dict): boolean {
    if (step.if === undefined) return true;
    const m = /^matrix\.([A-Za-z0-9_-]+) == '([^']*)'$/.exec(step.if);
    assert.ok(m, `this test reads only "matrix.<axis> == '<value>'" conditions, got ${step.if}`);
    return String(combo[m[1]]) === m[2];
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

/** Stacks a job deploys: `pulumi up --stack <s>` in a run step, or the dev stack wrapper `npm run up`. */
function deployedStacks(job: Job): string[] {
    const stacks = pulumiCommands(runText(job))
        .filter((c) => c.command === "up")
        .map((c) => stackOf(c.line)!);
    if (/\bnpm run up\b/.test(runText(job))) stacks.push("dev");
    return stacks;
}

/** Every place a value mentions `secrets.`: its path in the workflow document. */
function secretReferences(value: unknown, at: string[] = []): string[][] {
    if (typeof value === "string") return /\bsecrets\./.test(value) ? [at] : [];
    if (Array.isArray(value)) return value.flatMap((v, i) => secretReferences(v, [...at, String(i)]));
    if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => secretReferences(v, [...at, k]));
    return [];
}

const files = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => /\.ya?ml$/.test(f)) : [];
const packageJson = JSON.parse(fs.readFileSync(path.join(root, "package.json"), "utf8")) as Dict;
const appsWithFacts = fs
    .readdirSync(path.join(root, "apps"))
    .filter((d) => fs.existsSync(path.join(root, "apps", d, "package.json")))
    .filter((d) => JSON.parse(fs.readFileSync(path.join(root, "apps", d, "package.json"), "utf8")).ordersPlatform)
    .sort();

describe("GitHub workflows", () => {
    it("exist: pr.yml, deploy.yml and drift.yml", () => {
        assert.deepEqual(files.sort(), ["deploy.yml", "drift.yml", "pr.yml"]);
    });

    it("pin every action to one commit across all workflows, with its release tag as comment", () => {
        const pins = new Map<string, string>();
        for (const file of files) {
            const wf = load(file);
            const lines = wf.text.split("\n").filter((l) => /^\s*(-\s+)?uses:/.test(l));
            assert.ok(lines.length > 0);
            for (const line of lines) {
                const m = /uses:\s*(\S+)\s*(#\s*(\S+))?\s*$/.exec(line);
                assert.ok(m, `cannot read ${line.trim()}`);
                const ref = USES.exec(m[1]);
                assert.ok(ref, `${file}: "${m[1]}" must be owner/repo[/path]@<40-hex commit sha>`);
                assert.ok(ALLOWED_ACTIONS.has(ref[1]), `${file}: ${ref[1]} is not an allow-listed action`);
                assert.match(m[3] ?? "", /^v\d+\.\d+\.\d+$/, `${file}: ${ref[1]}@${ref[3]} needs its release tag as comment`);
                const pin = `${ref[3]} ${m[3]}`;
                assert.equal(pins.get(ref[1]) ?? pin, pin, `${ref[1]} is pinned to two different commits`);
                pins.set(ref[1], pin);
            }
            // The parsed document agrees with the line scan (no flow-style `uses` slipping past it).
            const parsedUses = Object.values(wf.jobs).flatMap((j) => (j.steps ?? []).filter((s) => s.uses).map((s) => s.uses!));
            assert.equal(parsedUses.length, lines.length);
            for (const u of parsedUses) assert.match(u, USES);
        }
    });

    it("read pinned versions only from scripts/versions.ts: every key they use exists, the PostgreSQL image is the program's", () => {
        const keys = versionOutputs();
        assert.equal(keys["postgres-image"], imageReference(IMAGES.postgres));
        assert.match(keys["postgres-image"], /^docker\.io\/library\/postgres:\d+\.\d+-\w+@sha256:[a-f0-9]{64}$/);
        assert.equal(keys.pulumi, lockedPulumiCli());
        assert.equal(
            keys.pulumi,
            (JSON.parse(fs.readFileSync(path.join(root, "package-lock.json"), "utf8")) as Dict).packages["node_modules/pulumi"].version,
        );
        for (const file of files) {
            const wf = load(file);
            const versions = wf.jobs.versions;
            const step = stepRunning(versions, /scripts\/versions\.ts/)!;
            assert.equal(step.id, "versions");
            assert.match(step.run!, /^npx --no-install tsx scripts\/versions\.ts \| tee -a "\$GITHUB_OUTPUT"$/);
            for (const [key, value] of Object.entries(versions.outputs as Dict)) {
                assert.ok(key in keys, `${file}: versions output ${key} is no key of scripts/versions.ts`);
                assert.equal(value, `\${{ steps.versions.outputs.${key} }}`);
            }
            for (const [name, job] of Object.entries(wf.jobs)) {
                for (const m of JSON.stringify(job).matchAll(/needs\.versions\.outputs\.([a-z-]+)/g)) {
                    assert.ok(m[1] in (versions.outputs as Dict), `${file}/${name}: versions has no output ${m[1]}`);
                    assert.ok(needsOf(job).includes("versions"), `${file}/${name} reads versions without needing it`);
                }
            }
            const withoutPins = wf.text.replace(/uses: \S+ # \S+/g, "");
            assert.doesNotMatch(
                withoutPins,
                /postgres:\d|v\d+\.\d+\.\d+|pulumi-version: \d/,
                `${file}: a version written into the workflow`,
            );
        }
    });

    for (const file of files) {
        describe(file, () => {
            const wf = load(file);

            it("has a name, triggers and jobs with steps", () => {
                assert.equal(typeof wf.doc.name, "string");
                assert.ok(wf.doc.on, "`on:` missing");
                assert.ok(!triggers(wf).includes("pull_request_target"), "pull_request_target runs with secrets on untrusted code");
                assert.ok(Object.keys(wf.jobs).length > 0);
                for (const [name, job] of Object.entries(wf.jobs)) {
                    assert.ok(Array.isArray(job.steps) && job.steps.length > 0, `${name} has no steps`);
                    assert.match(String(job["runs-on"]), /^ubuntu-\d{2}\.\d{2}$/, `${name}: runs-on must be a pinned runner image`);
                    assert.equal(typeof job["timeout-minutes"], "number", `${name}: timeout-minutes missing`);
                    for (const s of job.steps!)
                        assert.ok((s.uses === undefined) !== (s.run === undefined), `${name}: a step needs exactly one of uses/run`);
                }
            });

            it("declares read-only default permissions and grants write scopes only where needed", () => {
                assert.deepEqual(wf.doc.permissions, { contents: "read" });
                for (const [name, job] of Object.entries(wf.jobs)) {
                    assert.notEqual(typeof job.permissions, "string", `${name}: permissions must be a map (never read-all/write-all)`);
                    const perms = (job.permissions ?? {}) as Dict;
                    const usesOidc = OIDC_ACTIONS.some((a) => stepsUsing(job, a).length > 0);
                    const comments = stepsUsing(job, "actions/github-script").length > 0;
                    const driftIssues = /scripts\/drift\.ts issue /.test(runText(job));
                    assert.equal(perms["id-token"] === "write", usesOidc, `${name}: id-token: write exactly when OIDC is used`);
                    assert.equal(perms["pull-requests"] === "write", comments, `${name}: pull-requests: write exactly for the PR comment`);
                    assert.equal(perms.issues === "write", driftIssues, `${name}: issues: write exactly for the drift issues`);
                    for (const [scope, level] of Object.entries(perms)) {
                        if (scope === "id-token" || scope === "pull-requests" || scope === "issues") continue;
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

            it("hands secrets only to the steps that run Pulumi, in jobs bound to an environment", () => {
                const refs = secretReferences(wf.doc);
                for (const at of refs) {
                    // jobs.<job>.steps.<i>.env.<NAME>
                    assert.ok(
                        at.length === 6 && at[0] === "jobs" && at[2] === "steps" && at[4] === "env",
                        `${file}: secrets at ${at.join(".")}: only a step's env may carry them (not the job, not npm ci)`,
                    );
                    const job = wf.jobs[at[1]];
                    const step = job.steps![Number(at[3])];
                    assert.match(step.run ?? "", RUNS_PULUMI, `${at[1]}: "${step.name}" gets secrets but runs no Pulumi`);
                    assert.ok(envName(job), `${at[1]}: secrets outside an environment are repository-wide`);
                }
                for (const [name, job] of Object.entries(wf.jobs)) {
                    for (const s of job.steps ?? []) {
                        if (/\bnpm (ci|install)\b/.test(s.run ?? "")) assert.equal(s.env, undefined, `${name}: npm ci runs with an env`);
                    }
                    assert.ok(!JSON.stringify(job.env ?? {}).includes("secrets."), `${name}: job-level env sees every step`);
                }
            });

            it("lets `needs` refer only to existing jobs, without cycles", () => {
                for (const [name, job] of Object.entries(wf.jobs)) {
                    for (const n of needsOf(job)) assert.ok(n in wf.jobs, `${name} needs unknown job ${n}`);
                    assert.ok(!ancestors(wf, name).has(name), `${name} depends on itself`);
                }
            });

            it("runs every pulumi preview/up with the policy pack and the stack's policy config, on the CLI of the lockfile", () => {
                for (const [name, job] of Object.entries(wf.jobs)) {
                    for (const combo of matrixCombos(job)) {
                        for (const { line } of pulumiCommands(withMatrix(runText(job), combo))) {
                            const stack = stackOf(line);
                            assert.ok(stack && /^(staging|prod)$/.test(stack), `${name}: "${line}" names no shipped cloud stack`);
                            assert.ok(line.includes("--policy-pack policy "), `${name}: "${line}" lacks --policy-pack policy`);
                            assert.ok(
                                line.includes(`--policy-pack-config policy/config/${stack}.json`),
                                `${name}: "${line}" lacks its policy config`,
                            );
                            assert.ok(fs.existsSync(path.join(root, "policy", "config", `${stack}.json`)));
                            assert.ok(line.includes("--diff") && line.includes("--non-interactive"), `${name}: ${line}`);
                        }
                    }
                    if (RUNS_PULUMI.test(runText(job))) {
                        const [install] = stepsUsing(job, "pulumi/actions");
                        assert.ok(install, `${name} runs pulumi without installing the pinned CLI`);
                    }
                    for (const s of stepsUsing(job, "pulumi/actions")) {
                        // Install only: the commands are run steps, whose env the job controls.
                        assert.deepEqual(
                            s.with,
                            { "pulumi-version": "${{ needs.versions.outputs.pulumi }}" },
                            `${name}: pulumi/actions inputs`,
                        );
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

            it("runs pull-request code with a stack's secrets only behind that stack's preview environment", () => {
                if (!triggers(wf).includes("pull_request")) return;
                for (const [name, job] of Object.entries(wf.jobs)) {
                    const secretsOrCloud =
                        secretReferences(job).length > 0 || (job.permissions as Dict | undefined)?.["id-token"] === "write";
                    for (const combo of matrixCombos(job)) {
                        const env = withMatrix(envName(job), combo);
                        assert.ok(
                            !env || !(env in DEPLOY_ENVIRONMENTS),
                            `${name}: a pull request never uses the deploy environment ${env}`,
                        );
                        if (!secretsOrCloud) continue;
                        assert.ok(
                            env && env in PREVIEW_ENVIRONMENTS,
                            `${name}: secrets or cloud access without a protected preview environment`,
                        );
                        for (const { line } of pulumiCommands(withMatrix(runText(job), combo))) {
                            assert.equal(stackOf(line), PREVIEW_ENVIRONMENTS[env], `${name}: ${env} holds only its own stack's secrets`);
                        }
                    }
                }
            });
        });
    }

    describe("pr.yml pipeline", () => {
        const wf = load("pr.yml");

        it("runs on pull requests to main", () => {
            assert.deepEqual(wf.doc.on, { pull_request: { branches: ["main"] } });
        });

        it("tests on the maintained Node.js LTS lines against the program's PostgreSQL image", () => {
            const checks = wf.jobs.checks;
            assert.deepEqual(checks.strategy.matrix.node, ["22", "24", "26"]);
            const pg = checks.services.postgres;
            assert.equal(pg.image, "${{ needs.versions.outputs.postgres-image }}");
            assert.deepEqual([pg.env.POSTGRES_HOST_AUTH_METHOD, pg.env.POSTGRES_DB, pg.ports], ["trust", "test", ["5432:5432"]]);
            assert.equal(stepRunning(checks, /^npm run test:all$/)!.env!.PGHOST, "127.0.0.1");
        });

        it("runs each part of `npm test` once: lint and typecheck on one Node.js line, the suites on every line", () => {
            const checks = wf.jobs.checks;
            const parts = String(packageJson.scripts.test)
                .split("&&")
                .map((p) => p.trim());
            assert.deepEqual(parts, ["npm run lint", "npm run typecheck", "npm run test:all"], "package.json test script");
            assert.ok(!/\bnpm (test|t|run test)\s*$/m.test(wf.text), "`npm test` would lint and typecheck a second time");
            const combos = matrixCombos(checks);
            const runs = (cmd: string) => combos.map((c) => checks.steps!.filter((s) => s.run === cmd && runsIn(s, c)).length);
            assert.deepEqual(runs("npm run lint"), [0, 1, 0]);
            assert.deepEqual(runs("npm run typecheck"), [0, 1, 0]);
            assert.deepEqual(runs("npm run test:all"), [1, 1, 1]);
            const order = ["npm ci --no-audit --no-fund", "npm run lint", "npm run typecheck", "npm run test:all"].map((cmd) =>
                checks.steps!.findIndex((s) => s.run === cmd),
            );
            assert.deepEqual(
                [...order].sort((a, b) => a - b),
                order,
                "npm ci, lint, typecheck, test:all in this order",
            );
            assert.ok(!wf.text.includes("npm install"), "never npm install in CI");
        });

        it("checks the locked dependencies (npm run check:deps)", () => {
            const steps = wf.jobs.deps.steps!;
            const ci = steps.findIndex((s) => s.run === "npm ci --no-audit --no-fund");
            const check = steps.findIndex((s) => s.run === "npm run check:deps");
            assert.ok(ci >= 0 && check > ci);
            assert.ok(packageJson.scripts["check:deps"]);
        });

        it("lints the shared Dockerfile and builds every app from it (APP build arg, context apps/), failing on fixable HIGH/CRITICAL", () => {
            const [lint] = stepsUsing(wf.jobs.dockerfile, "hadolint/hadolint-action");
            assert.deepEqual(lint.with, { dockerfile: "apps/Dockerfile", "failure-threshold": "warning" });
            const image = wf.jobs.image;
            assert.deepEqual([...image.strategy.matrix.app].sort(), appsWithFacts, "one image per app in apps/");
            for (const combo of matrixCombos(image)) {
                const job = withMatrix(image, combo);
                const buildStep = stepRunning(job, /docker (buildx )?build/)!;
                const build = buildStep.run!.replace(/\s+/g, " ").trim();
                const tag = `orders-platform/${combo.app}:pr-\${{ github.event.pull_request.number }}`;
                assert.equal(build, `docker buildx build --load --file apps/Dockerfile --build-arg APP=${combo.app} --tag ${tag} apps`);
                const [scan] = stepsUsing(job, "aquasecurity/trivy-action");
                assert.deepEqual(scan.with, {
                    "scan-type": "image",
                    "image-ref": tag,
                    version: "${{ needs.versions.outputs.trivy }}",
                    severity: "HIGH,CRITICAL",
                    "ignore-unfixed": true,
                    "exit-code": "1",
                    format: "table",
                });
                assert.ok(job.steps!.indexOf(buildStep) < job.steps!.indexOf(scan));
            }
        });

        it("previews staging and prod after the checks, in their preview environments, keeping the output when the preview fails", () => {
            const preview = wf.jobs.preview;
            assert.deepEqual(new Set(needsOf(preview)), new Set(["versions", "checks", "dockerfile", "image"]));
            assert.match(preview.if, /github\.event\.pull_request\.head\.repo\.full_name == github\.repository/, "no preview for fork PRs");
            assert.deepEqual((preview.permissions as Dict)["pull-requests"], undefined, "the PR's program never holds a comment token");
            assert.ok(!JSON.stringify(preview).includes("github-token") && !JSON.stringify(preview).includes("GITHUB_TOKEN"));
            const seen: string[] = [];
            for (const combo of matrixCombos(preview)) {
                const job = withMatrix(preview, combo);
                assert.equal(envName(job), `preview-${combo.stack}`);
                const step = stepRunning(job, /pulumi preview/)!;
                const [line] = pulumiCommands(step.run!);
                seen.push(stackOf(line.line)!);
                assert.equal(step.id, "preview");
                assert.match(step.run!, /pulumi preview [^\n]* 2>&1 \| tee "\$out\/output\.txt" \|\| status=\$\?/);
                assert.match(step.run!, /echo "\$status" > "\$out\/exit-code"\n\s*exit "\$status"/);
                assert.deepEqual(Object.keys(step.env!).sort(), ["PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"]);
                const [upload] = stepsUsing(job, "actions/upload-artifact");
                assert.equal(
                    upload.if,
                    "${{ !cancelled() && (steps.preview.outcome == 'success' || steps.preview.outcome == 'failure') }}",
                    "uploaded after a failed preview too",
                );
                assert.deepEqual(
                    [upload.with!.name, upload.with!.path, upload.with!.overwrite],
                    [`preview-${combo.stack}`, "${{ runner.temp }}/preview/", true],
                );
                const steps = job.steps!;
                const idx = (a: string) => steps.findIndex((s) => actionOf(s) === a);
                assert.ok(idx("aws-actions/configure-aws-credentials") < steps.indexOf(step));
                assert.ok(idx("google-github-actions/auth") < steps.indexOf(step));
                assert.ok(idx("pulumi/actions") < steps.indexOf(step) && steps.indexOf(step) < steps.indexOf(upload));
            }
            assert.deepEqual(seen.sort(), ["prod", "staging"]);
        });

        it("posts the comment from a job that runs no pull-request code, also when a preview failed", () => {
            const comment = wf.jobs.comment;
            assert.deepEqual(needsOf(comment), ["preview"]);
            assert.equal(comment.if, "${{ !cancelled() && github.event.pull_request.head.repo.full_name == github.repository }}");
            assert.deepEqual(comment.permissions, { "pull-requests": "write" });
            assert.deepEqual(
                comment.steps!.map((s) => actionOf(s)),
                ["actions/download-artifact", "actions/github-script"],
                "no checkout, no npm, no run step",
            );
            assert.equal(comment.steps![0].with!.pattern, "preview-*");
            assert.equal(comment.steps![1].env!.PREVIEW_DIR, comment.steps![0].with!.path);
            assert.deepEqual(
                comment.steps![1].env!.STACKS.split(" "),
                matrixCombos(wf.jobs.preview).map((c) => c.stack),
            );
        });

        describe("the comment script (run with a fake GitHub client)", () => {
            const step: Step = wf.jobs.comment?.steps?.[1] ?? {};
            const script = String(step.with?.script);
            const MARKER = "<!-- orders-platform:pulumi-preview -->";
            let tmp: string;
            const savedEnv = { ...process.env };

            beforeEach(() => {
                tmp = fs.mkdtempSync(path.join(os.tmpdir(), "previews-"));
                process.env.PREVIEW_DIR = tmp;
                process.env.STACKS = step.env?.STACKS;
            });
            afterEach(() => {
                process.env = { ...savedEnv };
                fs.rmSync(tmp, { recursive: true, force: true });
            });

            const artifact = (stack: string, output: string, exitCode: string) => {
                fs.mkdirSync(path.join(tmp, `preview-${stack}`));
                fs.writeFileSync(path.join(tmp, `preview-${stack}`, "output.txt"), output);
                fs.writeFileSync(path.join(tmp, `preview-${stack}`, "exit-code"), `${exitCode}\n`);
            };

            async function post(existing: { id: number; login: string; body: string }[] = []) {
                const calls: { op: string; params: Dict }[] = [];
                const listComments = () => undefined;
                const github = {
                    paginate: async (fn: unknown, params: Dict) => {
                        assert.equal(fn, listComments);
                        calls.push({ op: "list", params });
                        return existing.map((c) => ({ id: c.id, user: { login: c.login }, body: c.body }));
                    },
                    rest: {
                        issues: {
                            listComments,
                            createComment: async (params: Dict) => void calls.push({ op: "create", params }),
                            updateComment: async (params: Dict) => void calls.push({ op: "update", params }),
                        },
                    },
                };
                const context = {
                    repo: { owner: "acme", repo: "orders-platform" },
                    issue: { number: 42 },
                    runId: 7,
                    serverUrl: "https://github.com",
                    payload: { pull_request: { head: { sha: "0123456789abcdef" } } },
                };
                const AsyncFunction = Object.getPrototypeOf(async () => undefined).constructor as new (
                    ...a: string[]
                ) => (...v: unknown[]) => Promise<unknown>;
                await new AsyncFunction("require", "github", "context", "core", script)(require, github, context, {});
                return calls;
            }

            it("posts a failed preview's output, as text that cannot leave its code block", async () => {
                artifact("staging", "Previewing update (staging):\n  ~ users Deployment\nResources: 1 to update\n", "0");
                const hostile =
                    "error: preventing update\n```\n</details>\n@everyone ![x](https://evil.example/x.png)\n````\nmandatory: [no-latest-image]";
                artifact("prod", hostile, "255");
                const calls = await post();

                assert.deepEqual(
                    calls.map((c) => c.op),
                    ["list", "create"],
                );
                const { params } = calls[1];
                assert.deepEqual([params.owner, params.repo, params.issue_number], ["acme", "orders-platform", 42]);
                const body = String(params.body);
                assert.ok(body.startsWith(`${MARKER}\n\n### Pulumi preview of 0123456`));
                assert.match(body, /\*\*staging\*\*: preview succeeded\n\n<details><summary>/);
                assert.match(body, /\*\*prod\*\*: \*\*preview FAILED\*\* \(exit 255\): policy violations/);
                // Four backticks is the longest run in the output: the fence has five, so nothing closes it early.
                assert.ok(
                    body.includes(
                        `<details open><summary>pulumi preview --diff (prod)</summary>\n\n\`\`\`\`\`text\n${hostile}\n\`\`\`\`\`\n\n</details>`,
                    ),
                );
                assert.ok(body.includes("```text\nPreviewing update (staging):"));
                assert.ok(body.endsWith("[workflow run](https://github.com/acme/orders-platform/actions/runs/7)"));
            });

            it("updates its own earlier comment, never someone else's", async () => {
                artifact("staging", "ok", "0");
                const calls = await post([
                    { id: 1, login: "mallory", body: `${MARKER} fake` },
                    { id: 2, login: "github-actions[bot]", body: `${MARKER}\n\nold` },
                ]);
                assert.deepEqual(
                    calls.map((c) => [c.op, c.params.comment_id]),
                    [
                        ["list", undefined],
                        ["update", 2],
                    ],
                );
                assert.match(
                    String(calls[1].params.body),
                    /\*\*prod\*\*: not run \(failed checks, a cancelled run, or the `preview-prod` environment not approved\)/,
                );
            });

            it("says when no preview ran: updates an earlier comment, creates none", async () => {
                assert.deepEqual(
                    (await post()).map((c) => c.op),
                    ["list"],
                );
                const calls = await post([{ id: 3, login: "github-actions[bot]", body: `${MARKER}\n\nold diff` }]);
                assert.deepEqual(
                    calls.map((c) => c.op),
                    ["list", "update"],
                );
                assert.match(String(calls[1].params.body), /\*\*staging\*\*: not run/);
            });

            it("keeps the end of a long output (policy results and summary) within GitHub's comment size", async () => {
                artifact("staging", "x".repeat(100_000) + "\nResources: 900 to create", "0");
                artifact("prod", "y".repeat(100_000) + "\nPolicies: mandatory violation", "1");
                const body = String((await post())[1].params.body);
                assert.ok(body.length < 65_536, `${body.length}`);
                assert.match(body, /\[first 70025 characters cut; the full output is in the job log\]/);
                assert.ok(body.includes("Resources: 900 to create") && body.includes("Policies: mandatory violation"));
            });

            it("reports an unreadable exit code as an unfinished preview", async () => {
                artifact("staging", "partial", "`rm -rf`");
                assert.match(String((await post())[1].params.body), /\*\*staging\*\*: \*\*preview did not finish\*\*/);
            });
        });
    });

    describe("deploy.yml pipeline", () => {
        const wf = load("deploy.yml");
        const e2e = wf.jobs["e2e-dev"];
        const deployJobs = Object.entries(wf.jobs).filter(([, j]) => deployedStacks(j).length > 0);

        it("runs on pushes to main and by hand", () => {
            assert.deepEqual(wf.doc.on, { push: { branches: ["main"] }, workflow_dispatch: {} });
        });

        it("deploys only from main, whatever the trigger", () => {
            assert.equal(deployJobs.length, 3);
            for (const [name, job] of deployJobs) assert.equal(job.if, "github.ref == 'refs/heads/main'", `${name}: the main guard`);
        });

        it("orders the pipeline dev e2e -> staging -> prod", () => {
            const byStack = Object.fromEntries(deployJobs.map(([n, j]) => [deployedStacks(j)[0], n]));
            assert.deepEqual(Object.keys(byStack).sort(), ["dev", "prod", "staging"]);
            assert.ok(ancestors(wf, byStack.staging).has(byStack.dev), "staging needs the dev e2e");
            assert.deepEqual(
                needsOf(wf.jobs[byStack.prod]).filter((n) => n !== "versions"),
                [byStack.staging],
                "prod needs staging",
            );
        });

        it("puts prod behind the production environment and staging behind staging, each with its own stack's secrets", () => {
            assert.equal(envName(wf.jobs["deploy-prod"]), "production");
            assert.equal(envName(wf.jobs["deploy-staging"]), "staging");
            assert.equal(envName(e2e), undefined, "the throwaway e2e needs no approval");
            for (const name of ["deploy-staging", "deploy-prod"]) {
                const job = wf.jobs[name];
                assert.deepEqual(deployedStacks(job), [DEPLOY_ENVIRONMENTS[envName(job)!]]);
                assert.equal(job.environment.url, "${{ steps.pulumi.outputs.edgeUrl }}");
                assert.match(
                    stepRunning(job, /pulumi up/)!.run!,
                    /echo "edgeUrl=\$\(pulumi stack output edgeUrl --stack \w+ \|\| true\)" >> "\$GITHUB_OUTPUT"/,
                );
            }
        });

        it("stops Pulumi itself before any timeout can cut it off, and reports what an interrupted update left", () => {
            for (const name of ["deploy-staging", "deploy-prod"]) {
                const job = wf.jobs[name];
                const up = stepRunning(job, /pulumi up/)!;
                assert.equal(up.id, "pulumi");
                const m = /^timeout --signal=INT --kill-after=(\d+)m (\d+)m pulumi up /m.exec(up.run!);
                assert.ok(m, `${name}: pulumi up runs under its own deadline with SIGINT`);
                const [grace, deadline] = [Number(m[1]), Number(m[2])];
                assert.ok(
                    deadline + grace < up["timeout-minutes"],
                    `${name}: deadline ${deadline}m + grace ${grace}m within the step's timeout`,
                );
                assert.ok(up["timeout-minutes"] < job["timeout-minutes"], `${name}: the step's timeout within the job's`);
                assert.ok(grace >= 5, "time to finish the operations in flight");
                assert.match(up.run!, /trap 'kill -INT "\$up"[^']*' INT TERM/, "a cancel reaches Pulumi");
                const report = job.steps![job.steps!.indexOf(up) + 1];
                assert.equal(report.if, "always() && (steps.pulumi.outcome == 'failure' || steps.pulumi.outcome == 'cancelled')");
                assert.match(report.run!, /pulumi stack export --stack \w+ \| jq -r '\.deployment\.pending_operations/);
                assert.match(report.run!, /GITHUB_STEP_SUMMARY/);
            }
        });

        describe("the deploy step's deadline and signal handling (run with a fake pulumi)", function () {
            this.timeout(20_000);
            const up = stepRunning(wf.jobs["deploy-staging"], /pulumi up/)!;
            let tmp: string;
            beforeEach(() => {
                tmp = fs.mkdtempSync(path.join(os.tmpdir(), "deploy-step-"));
                // `up` takes UP_SECONDS; on SIGINT it finishes its "operation in flight", saves and exits 255.
                fs.writeFileSync(
                    path.join(tmp, "pulumi"),
                    [
                        "#!/usr/bin/env bash",
                        'echo "$*" >> "$FAKE_LOG"',
                        'if [ "$1" = stack ]; then echo https://orders.example; exit 0; fi',
                        "trap 'sleep 0.2; echo interrupted-and-saved >> \"$FAKE_LOG\"; exit 255' INT",
                        'for _ in $(seq 1 "$((UP_SECONDS * 10))"); do sleep 0.1; done',
                        "exit 0",
                    ].join("\n"),
                    { mode: 0o755 },
                );
            });
            afterEach(() => fs.rmSync(tmp, { recursive: true, force: true }));

            /** Runs the step as the runner does (bash -eo pipefail), minutes scaled to seconds; SIGINT after `cancelAfterMs`. */
            function runStep(upSeconds: number, cancelAfterMs?: number): Promise<{ code: number | null; log: string; output: string }> {
                const script = up.run!.replace(/--kill-after=(\d+)m (\d+)m/, "--kill-after=$1s 1s");
                const env = {
                    ...process.env,
                    PATH: `${tmp}${path.delimiter}${process.env.PATH}`,
                    FAKE_LOG: path.join(tmp, "log"),
                    UP_SECONDS: String(upSeconds),
                    GITHUB_OUTPUT: path.join(tmp, "output"),
                    GITHUB_SHA: "abc",
                    GITHUB_RUN_ID: "1",
                };
                fs.writeFileSync(env.GITHUB_OUTPUT, "");
                const child = spawn("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], { env, stdio: "ignore" });
                if (cancelAfterMs !== undefined) setTimeout(() => child.kill("SIGINT"), cancelAfterMs);
                return new Promise((resolve) =>
                    child.on("exit", (code) =>
                        resolve({
                            code,
                            log: fs.existsSync(env.FAKE_LOG) ? fs.readFileSync(env.FAKE_LOG, "utf8") : "",
                            output: fs.readFileSync(env.GITHUB_OUTPUT, "utf8"),
                        }),
                    ),
                );
            }

            it("a finished update passes and publishes the edge URL", async () => {
                const r = await runStep(0);
                assert.equal(r.code, 0);
                assert.match(
                    r.log,
                    /^up --yes --diff --non-interactive --color never --stack staging --policy-pack policy --policy-pack-config policy\/config\/staging\.json --message deploy abc \(run 1\)\n/,
                );
                assert.equal(r.output, "edgeUrl=https://orders.example\n");
            });

            it("at the deadline Pulumi gets SIGINT, finishes its operation in flight, and the step fails with 124", async () => {
                const r = await runStep(30);
                assert.equal(r.code, 124);
                assert.match(r.log, /interrupted-and-saved/);
                assert.equal(r.output, "", "no edge URL from an interrupted update");
            });

            it("a cancel (SIGINT to the step's shell) reaches Pulumi, and the step waits for it to stop", async () => {
                const r = await runStep(30, 300);
                assert.equal(r.code, 255);
                assert.match(r.log, /interrupted-and-saved/);
            });
        });

        it("e2e: installs the pinned kind and kubectl, runs the dev stack with a local file backend, waits, smoke-tests, tears down", () => {
            assert.match(e2e.env.PULUMI_BACKEND_URL, /^file:\/\//);
            assert.ok(e2e.env.PULUMI_CONFIG_PASSPHRASE);
            const [kind] = stepsUsing(e2e, "helm/kind-action");
            // kind-action's own defaults lag behind (kind v0.31.0, kubectl v1.35.0): pass both.
            assert.deepEqual(kind.with, {
                install_only: true,
                version: "${{ needs.versions.outputs.kind }}",
                kubectl_version: "${{ needs.versions.outputs.kubectl }}",
            });
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
            assert.match(s, /user='\{"name":"E2E"\}'/, "the email comes from the token, never the body");
            assert.match(s, /set -euo pipefail/);
            // Authenticated like any client: a token from the dev stack's own issuer; anonymous is refused.
            assert.match(s, /npm run --silent token -- --stack dev --user/);
            assert.match(s, /"\$\{auth\[@\]\}"/);
            assert.match(s, /without a token/);
            assert.equal(steps[down].if, "always()", "tear down even when the smoke test fails");
        });
    });
    describe("drift.yml", () => {
        const wf = load("drift.yml");
        const detect = wf.jobs.detect;
        const issues = wf.jobs.issues;

        it("runs on a schedule and by hand, from main only", () => {
            assert.deepEqual(Object.keys(wf.doc.on).sort(), ["schedule", "workflow_dispatch"]);
            const [{ cron }] = wf.doc.on.schedule as Array<{ cron: string }>;
            assert.match(cron, /^\d+ \d+ \* \* \*$/, "once a day");
            for (const job of [detect, issues]) assert.match(String(job.if), /github\.ref == 'refs\/heads\/main'/);
        });

        it("checks each stack with read-only credentials only: the preview role, no deploy role, no write scope", () => {
            const combos = matrixCombos(detect);
            assert.deepEqual(
                combos.map((c) => c.stack),
                ["staging", "prod"],
            );
            for (const combo of combos) {
                const env = withMatrix(envName(detect), combo)!;
                assert.equal(env, `drift-${combo.stack}`);
                assert.ok(
                    !(env in DEPLOY_ENVIRONMENTS) && !(env in PREVIEW_ENVIRONMENTS),
                    `${env}: neither a deploy nor a reviewed preview environment`,
                );
            }
            assert.deepEqual(detect.permissions, { contents: "read", "id-token": "write" });
            const [aws] = stepsUsing(detect, "aws-actions/configure-aws-credentials");
            assert.equal(aws.with!["role-to-assume"], "${{ vars.AWS_PREVIEW_ROLE_ARN }}");
            const [gcp] = stepsUsing(detect, "google-github-actions/auth");
            assert.equal(gcp.with!.service_account, "${{ vars.GCP_PREVIEW_SERVICE_ACCOUNT }}");
            assert.doesNotMatch(wf.text, /vars\.AWS_ROLE_ARN|vars\.GCP_SERVICE_ACCOUNT/, "no deploy role anywhere");
            const secrets = secretReferences(wf.doc).map((at) => at[at.length - 1]);
            assert.deepEqual(secrets.sort(), ["PULUMI_ACCESS_TOKEN", "PULUMI_CONFIG_PASSPHRASE"]);
        });

        it("never changes anything: no up, destroy, import, refresh that writes, or --yes; the check is scripts/drift.ts detect", () => {
            // What runs (the parsed jobs), not the comments.
            assert.doesNotMatch(JSON.stringify(wf.jobs), /pulumi (up|destroy|import|refresh|cancel|state)\b|--yes|--skip-preview/);
            const step = stepRunning(detect, /scripts\/drift\.ts detect/)!;
            assert.match(
                step.run!,
                /^npx --no-install tsx scripts\/drift\.ts detect --stack \$\{\{ matrix\.stack \}\} --out "\$RUNNER_TEMP\/drift"/m,
            );
            const [upload] = stepsUsing(detect, "actions/upload-artifact");
            assert.equal(upload.with!.name, "drift-${{ matrix.stack }}");
            assert.equal(upload.if, "${{ !cancelled() }}", "the report reaches the issue job also after drift (exit 2)");
        });

        it("keeps one issue per stack from a job with no credentials but issues: write", () => {
            assert.deepEqual(needsOf(issues), ["detect"]);
            assert.equal(envName(issues), undefined);
            assert.deepEqual(issues.permissions, { contents: "read", issues: "write" });
            assert.equal(secretReferences(issues).length, 0);
            assert.equal(
                stepsUsing(issues, "aws-actions/configure-aws-credentials").length +
                    stepsUsing(issues, "google-github-actions/auth").length,
                0,
            );
            const step = stepRunning(issues, /scripts\/drift\.ts issue/)!;
            assert.deepEqual(step.env, { GITHUB_TOKEN: "${{ github.token }}" });
            assert.match(step.run!, /--reports "\$RUNNER_TEMP\/reports" --repo "\$GITHUB_REPOSITORY"/);
        });

        it("the detect step passes on drift (exit 2, reported by the issue job) and fails a broken check (run with a fake npx)", () => {
            const step = stepRunning(detect, /scripts\/drift\.ts detect/)!;
            const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "drift-step-"));
            try {
                fs.writeFileSync(path.join(tmp, "npx"), '#!/usr/bin/env bash\necho "$*" > "$FAKE_LOG"\nexit "$FAKE_EXIT"\n', {
                    mode: 0o755,
                });
                const run = (exit: number) => {
                    const script = withMatrix(step.run!, { stack: "prod" });
                    const r = spawnSync("bash", ["--noprofile", "--norc", "-eo", "pipefail", "-c", script], {
                        env: {
                            ...process.env,
                            PATH: `${tmp}${path.delimiter}${process.env.PATH}`,
                            FAKE_LOG: path.join(tmp, "log"),
                            FAKE_EXIT: String(exit),
                            RUNNER_TEMP: tmp,
                        },
                    });
                    return r.status;
                };
                assert.equal(run(0), 0);
                assert.equal(run(2), 0);
                assert.notEqual(run(1), 0);
                assert.match(fs.readFileSync(path.join(tmp, "log"), "utf8"), /^--no-install tsx scripts\/drift\.ts detect --stack prod /);
            } finally {
                fs.rmSync(tmp, { recursive: true, force: true });
            }
        });
    });
});
