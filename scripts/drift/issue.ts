// One GitHub issue per stack for drift: opened at the first drift, its body replaced by the latest
// report while the drift lasts, closed with a comment when a check finds none. Found again by a
// marker in the body (the title is for people), never by anyone else's issue.
import { ISSUE_MARKER, issueTitle, renderMarkdown, type DriftReport } from "./report";

export const DRIFT_LABEL = "drift";

export interface Issue {
    number: number;
    title: string;
    body?: string | null;
    user?: { login?: string } | null;
}

/** The few GitHub REST calls drift needs (scripts/drift.ts: fetch; tests: a fake). */
export interface IssueClient {
    openIssues(label: string): Promise<Issue[]>;
    create(title: string, body: string, labels: string[]): Promise<Issue>;
    update(number: number, body: string): Promise<void>;
    comment(number: number, body: string): Promise<void>;
    close(number: number): Promise<void>;
}

export type IssueAction = { action: "created" | "updated" | "closed"; number: number } | { action: "none" };

/** The bot's own issue for this stack, if open. */
export function findIssue(issues: Issue[], stack: string, botLogin = "github-actions[bot]"): Issue | undefined {
    return issues.find((i) => (i.body ?? "").startsWith(ISSUE_MARKER(stack)) && (i.user?.login ?? botLogin) === botLogin);
}

export async function syncIssue(client: IssueClient, report: DriftReport, runUrl?: string): Promise<IssueAction> {
    if (report.error) return { action: "none" };
    const existing = findIssue(await client.openIssues(DRIFT_LABEL), report.stack);
    const body = renderMarkdown(report, runUrl);
    if (report.drift) {
        if (existing) {
            await client.update(existing.number, body);
            return { action: "updated", number: existing.number };
        }
        const created = await client.create(issueTitle(report.stack), body, [DRIFT_LABEL]);
        return { action: "created", number: created.number };
    }
    if (!existing) return { action: "none" };
    await client.comment(
        existing.number,
        `No drift in \`${report.stack}\` as of ${report.checkedAt}${runUrl ? ` ([run](${runUrl}))` : ""}; closing.`,
    );
    await client.close(existing.number);
    return { action: "closed", number: existing.number };
}

/** The REST client over fetch, for `owner/repo` with a token (GITHUB_TOKEN with issues: write). */
export function githubClient(repo: string, token: string, apiUrl = "https://api.github.com"): IssueClient {
    const call = async (method: string, path: string, body?: unknown): Promise<any> => {
        const res = await fetch(`${apiUrl}/repos/${repo}${path}`, {
            method,
            headers: {
                accept: "application/vnd.github+json",
                authorization: `Bearer ${token}`,
                "x-github-api-version": "2022-11-28",
                ...(body ? { "content-type": "application/json" } : {}),
            },
            body: body ? JSON.stringify(body) : undefined,
            signal: AbortSignal.timeout(30_000),
        });
        if (!res.ok) throw new Error(`GitHub ${method} ${path}: ${res.status} ${(await res.text()).slice(0, 300)}`);
        return res.status === 204 ? undefined : res.json();
    };
    return {
        openIssues: async (label) => {
            const out: Issue[] = [];
            for (let page = 1; page <= 10; page++) {
                const batch = (await call(
                    "GET",
                    `/issues?state=open&labels=${encodeURIComponent(label)}&per_page=100&page=${page}`,
                )) as Issue[];
                out.push(...batch);
                if (batch.length < 100) break;
            }
            return out;
        },
        create: (title, body, labels) => call("POST", "/issues", { title, body, labels }),
        update: async (number, body) => void (await call("PATCH", `/issues/${number}`, { body })),
        comment: async (number, body) => void (await call("POST", `/issues/${number}/comments`, { body })),
        close: async (number) => void (await call("PATCH", `/issues/${number}`, { state: "closed", state_reason: "completed" })),
    };
}
