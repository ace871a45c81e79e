// Drift detection for one stack, read-only: it never changes a resource or the state.
//   npx tsx scripts/drift.ts detect --stack prod [--cwd .] [--out dir] [--no-notify] [--run-url URL]
//     1. pulumi refresh --preview-only --json   live resources against the state
//     2. pulumi preview --expect-no-changes --json (with the policy pack)   program and config against the state
//     writes <out>/report.json and report.md, alerts the stack's alert receiver on drift;
//     exit 0 = no drift, 2 = drift, 1 = the check failed.
//   npx tsx scripts/drift.ts issue --reports <dir> --repo owner/name [--run-url URL]
//     opens, updates or closes one GitHub issue per stack from the reports below <dir>
//     (GITHUB_TOKEN with issues: write).
// It never remediates: a refresh alone does not always undo Kubernetes drift under client-side
// apply (docs/operations.md, "Drift"), and deciding between `up` and adopting the change is a
// person's call.
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { parseCommandLine } from "./lib/cliArgs";
import { resolvePulumiCli } from "./lib/pulumiCli";
import { githubClient, syncIssue } from "./drift/issue";
import { alertPayload, alertTarget, postAlert, type AlertTarget } from "./drift/notify";
import { previewFindings, refreshFindings, renderMarkdown, summarize, type DriftReport } from "./drift/report";

const REPO = path.resolve(__dirname, "..");
const CONFIG_NAMESPACE = "orders-platform";

export const EXIT = { clean: 0, failed: 1, drift: 2 } as const;

/** The two read-only commands of a drift check. */
export function driftCommands(stack: string, environment: string, repo = REPO): { refresh: string[]; preview: string[] } {
    return {
        refresh: ["refresh", "--preview-only", "--json", "--non-interactive", "--stack", stack],
        preview: [
            "preview",
            "--expect-no-changes",
            "--json",
            "--non-interactive",
            "--stack",
            stack,
            "--policy-pack",
            path.join(repo, "policy"),
            "--policy-pack-config",
            path.join(repo, "policy", "config", `${environment}.json`),
        ],
    };
}

interface Run {
    status: number;
    stdout: string;
    stderr: string;
}

type Runner = (args: string[]) => Run;

function cliRunner(cwd: string): Runner {
    const bin = resolvePulumiCli(REPO).bin;
    return (args) => {
        const r = spawnSync(bin, args, { cwd, encoding: "utf8", maxBuffer: 512 * 1024 * 1024 });
        return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: `${r.stderr ?? ""}${r.error ? r.error.message : ""}` };
    };
}

const tail = (r: Run) => `${r.stderr}${r.stdout}`.trim().split("\n").slice(-15).join("\n");

/** Runs both commands and classifies what they print. */
export function detect(stack: string, pulumi: Runner, now = new Date()): DriftReport {
    const checkedAt = now.toISOString();
    const env = pulumi(["config", "get", `${CONFIG_NAMESPACE}:environment`, "--stack", stack]);
    if (env.status !== 0)
        return { stack, checkedAt, drift: false, findings: [], error: `cannot read ${CONFIG_NAMESPACE}:environment: ${tail(env)}` };
    const commands = driftCommands(stack, env.stdout.trim());
    const refresh = pulumi(commands.refresh);
    if (refresh.status !== 0)
        return { stack, checkedAt, drift: false, findings: [], error: `pulumi refresh --preview-only failed:\n${tail(refresh)}` };
    const preview = pulumi(commands.preview);
    let findings;
    try {
        findings = [...refreshFindings(refresh.stdout), ...previewFindings(preview.stdout)];
    } catch (err) {
        return {
            stack,
            checkedAt,
            drift: false,
            findings: [],
            error: `unreadable CLI output: ${(err as Error).message}\n${tail(preview)}`,
        };
    }
    // --expect-no-changes fails on changes; a failure without any change is an error (a policy
    // violation, credentials, the program itself).
    if (preview.status !== 0 && !findings.some((f) => f.kind === "undeployed")) {
        return { stack, checkedAt, drift: false, findings: [], error: `pulumi preview failed:\n${tail(preview)}` };
    }
    return { stack, checkedAt, drift: findings.length > 0, findings };
}

/** The stack's alert receiver URL, or why there is none. */
export function alertUrl(stack: string, pulumi: Runner): { url?: string; target?: AlertTarget; why?: string } {
    const obs = pulumi(["config", "get", `${CONFIG_NAMESPACE}:observability`, "--json", "--stack", stack]);
    let observability: Record<string, any> | undefined;
    if (obs.status === 0) {
        const doc = JSON.parse(obs.stdout) as { value?: string; objectValue?: Record<string, any> };
        observability = doc.objectValue ?? (doc.value ? JSON.parse(doc.value) : undefined);
    }
    const target = alertTarget(observability);
    if (!target) return { why: "observability.alerting names no webhook or Slack receiver" };
    const secret = pulumi(["config", "get", "--path", `${CONFIG_NAMESPACE}:alertingSecrets.${target.receiver}`, "--stack", stack]);
    if (secret.status !== 0 || secret.stdout.trim() === "") return { target, why: `alertingSecrets.${target.receiver} is not set` };
    return { url: secret.stdout.trim(), target };
}

const USAGE = `usage:
  tsx scripts/drift.ts detect --stack <stack> [--cwd <project dir>] [--out <dir>] [--no-notify] [--run-url <url>]
  tsx scripts/drift.ts issue --reports <dir> --repo <owner/name> [--run-url <url>]`;

async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    const { values } = parseCommandLine(
        rest,
        {
            stack: { type: "string" },
            cwd: { type: "string" },
            out: { type: "string" },
            "no-notify": { type: "boolean" },
            "run-url": { type: "string" },
            reports: { type: "string" },
            repo: { type: "string" },
        },
        USAGE,
    );
    const runUrl = values["run-url"];
    if (command === "detect") {
        if (!values.stack) throw new Error(`--stack is required\n${USAGE}`);
        const pulumi = cliRunner(path.resolve(values.cwd ?? REPO));
        const report = detect(values.stack, pulumi);
        const markdown = renderMarkdown(report, runUrl);
        if (values.out) {
            fs.mkdirSync(values.out, { recursive: true });
            fs.writeFileSync(path.join(values.out, "report.json"), JSON.stringify(report, null, 2) + "\n");
            fs.writeFileSync(path.join(values.out, "report.md"), markdown + "\n");
        }
        if (process.env.GITHUB_STEP_SUMMARY) fs.appendFileSync(process.env.GITHUB_STEP_SUMMARY, markdown + "\n");
        process.stdout.write(`${summarize(report)}\n`);
        for (const f of report.findings) {
            process.stdout.write(`  ${f.kind}: ${f.label}${f.changes.length ? ` (${f.changes.map((c) => c.path).join(", ")})` : ""}\n`);
        }
        if (report.drift && !values["no-notify"]) {
            const { url, target, why } = alertUrl(values.stack, pulumi);
            if (!url || !target) process.stdout.write(`alert: not sent (${why})\n`);
            else {
                try {
                    const status = await postAlert(url, alertPayload(target, report, runUrl));
                    process.stdout.write(`alert: sent to receiver ${target.receiver} (${target.type}, HTTP ${status})\n`);
                } catch (err) {
                    process.stdout.write(`alert: failed to reach receiver ${target.receiver}: ${(err as Error).message}\n`);
                }
            }
        }
        return report.error ? EXIT.failed : report.drift ? EXIT.drift : EXIT.clean;
    }
    if (command === "issue") {
        if (!values.reports || !values.repo) throw new Error(`--reports and --repo are required\n${USAGE}`);
        const token = process.env.GITHUB_TOKEN;
        if (!token) throw new Error("GITHUB_TOKEN is not set");
        const client = githubClient(values.repo, token, process.env.GITHUB_API_URL);
        const files = fs
            .readdirSync(values.reports, { recursive: true, encoding: "utf8" })
            .filter((f) => path.basename(f) === "report.json")
            .sort();
        if (files.length === 0) throw new Error(`no report.json below ${values.reports}`);
        let failed = false;
        for (const f of files) {
            const report = JSON.parse(fs.readFileSync(path.join(values.reports, f), "utf8")) as DriftReport;
            const action = await syncIssue(client, report, runUrl);
            process.stdout.write(
                `${report.stack}: ${summarize(report)}; issue ${action.action}${"number" in action ? ` #${action.number}` : ""}\n`,
            );
            failed ||= report.error !== undefined;
        }
        return failed ? EXIT.failed : EXIT.clean;
    }
    throw new Error(`unknown command "${command ?? ""}"\n${USAGE}`);
}

if (require.main === module) {
    main(process.argv.slice(2)).then(
        (code) => (process.exitCode = code),
        (err: Error) => {
            process.stderr.write(`error: ${err.message}\n`);
            process.exitCode = EXIT.failed;
        },
    );
}
