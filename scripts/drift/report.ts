// Drift findings from the JSON the Pulumi CLI prints for `pulumi refresh --preview-only --json`
// (the live objects against the state) and `pulumi preview --expect-no-changes --json` (the
// program and config against the state), and the report made of them. Pure: scripts/drift.ts
// runs the CLI, test/drift.test.ts feeds recorded shapes, the engine test the real thing.

type Obj = Record<string, any>;

export interface FieldChange {
    path: string;
    before: unknown;
    after: unknown;
}

export interface Finding {
    /** `out-of-band-delete`: gone from the cloud/cluster; `out-of-band-change`: changed there;
     *  `undeployed`: the program or config differs from the state (a deploy is missing). */
    kind: "out-of-band-delete" | "out-of-band-change" | "undeployed";
    urn: string;
    type: string;
    /** "Deployment orders-apps/users" for Kubernetes objects, else the resource name. */
    label: string;
    op: string;
    changes: FieldChange[];
}

export interface DriftReport {
    stack: string;
    checkedAt: string;
    drift: boolean;
    findings: Finding[];
    /** Set when a command failed for another reason than drift; then nothing is known. */
    error?: string;
}

interface Step {
    op: string;
    urn: string;
    oldState?: { type?: string; outputs?: Obj; inputs?: Obj };
    newState?: { type?: string; outputs?: Obj; inputs?: Obj };
    detailedDiff?: Record<string, unknown>;
}

/** The JSON document the CLI prints with --json (engine events are not requested). */
export function parseCliJson(text: string): { steps: Step[]; diagnostics: Obj[] } {
    const start = text.indexOf("{");
    if (start < 0) throw new Error(`no JSON in the CLI output: ${text.slice(0, 300)}`);
    const doc = JSON.parse(text.slice(start)) as Obj;
    return { steps: (doc.steps ?? []) as Step[], diagnostics: (doc.diagnostics ?? []) as Obj[] };
}

/**
 * Paths the cluster changes by itself (status, bookkeeping) or that belong to another owner: they
 * are never drift. A Deployment/StatefulSet scaled by its HorizontalPodAutoscaler is not either.
 */
const VOLATILE: RegExp[] = [
    /^status(\.|\[|$)/,
    /^metadata\.(resourceVersion|managedFields|generation|creationTimestamp|selfLink)(\.|\[|$)/,
    /^metadata\.annotations\.(deployment\.kubernetes\.io\/revision|kubectl\.kubernetes\.io\/last-applied-configuration)$/,
    /^__/,
];

const typeOf = (urn: string) => urn.split("::")[2] ?? "";

function labelOf(urn: string, state: Obj | undefined): string {
    const outputs = state?.outputs ?? {};
    const kind = outputs.kind;
    const name = outputs.metadata?.name;
    if (typeof kind === "string" && typeof name === "string") {
        return outputs.metadata?.namespace ? `${kind} ${outputs.metadata.namespace}/${name}` : `${kind} ${name}`;
    }
    return urn.split("::").pop() ?? urn;
}

function isPlain(v: unknown): v is Obj {
    return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** Leaf-level differences between two JSON values, with dotted paths (`spec.replicas`, `a[0].b`). */
export function diffValues(before: unknown, after: unknown, at = ""): FieldChange[] {
    if (isPlain(before) && isPlain(after)) {
        const keys = [...new Set([...Object.keys(before), ...Object.keys(after)])].sort();
        return keys.flatMap((k) => diffValues(before[k], after[k], at ? `${at}.${k}` : k));
    }
    if (Array.isArray(before) && Array.isArray(after) && before.length === after.length) {
        return before.flatMap((b, i) => diffValues(b, after[i], `${at}[${i}]`));
    }
    return JSON.stringify(before) === JSON.stringify(after) ? [] : [{ path: at, before, after }];
}

/** Workloads whose replica count an HPA of the same state owns ("Deployment ns/name"). */
function autoscaled(steps: Step[]): Set<string> {
    const out = new Set<string>();
    for (const s of steps) {
        const o = s.oldState?.outputs ?? s.newState?.outputs;
        if (o?.kind !== "HorizontalPodAutoscaler") continue;
        const ref = o.spec?.scaleTargetRef;
        if (ref) out.add(`${ref.kind} ${o.metadata?.namespace}/${ref.name}`);
    }
    return out;
}

const IGNORED_TYPES = [/^pulumi:pulumi:Stack$/, /^pulumi:providers:/];

/** What `refresh --preview-only --json` found changed or gone outside Pulumi. */
export function refreshFindings(json: string): Finding[] {
    const { steps } = parseCliJson(json);
    const scaled = autoscaled(steps);
    const findings: Finding[] = [];
    for (const s of steps) {
        const type = s.oldState?.type ?? s.newState?.type ?? typeOf(s.urn);
        if (IGNORED_TYPES.some((re) => re.test(type)) || s.op === "same") continue;
        const label = labelOf(s.urn, s.oldState ?? s.newState);
        if (s.op === "delete" || (s.oldState && !s.newState)) {
            findings.push({ kind: "out-of-band-delete", urn: s.urn, type, label, op: s.op, changes: [] });
            continue;
        }
        const changes = diffValues(s.oldState?.outputs ?? {}, s.newState?.outputs ?? {}).filter(
            (c) => !VOLATILE.some((re) => re.test(c.path)) && !(c.path === "spec.replicas" && scaled.has(label)),
        );
        if (changes.length > 0) findings.push({ kind: "out-of-band-change", urn: s.urn, type, label, op: s.op, changes });
    }
    return findings;
}

/** What `preview --json` would change: the program or config is ahead of (or behind) the state. */
export function previewFindings(json: string): Finding[] {
    const { steps } = parseCliJson(json);
    return steps
        .filter((s) => s.op !== "same" && !IGNORED_TYPES.some((re) => re.test(s.newState?.type ?? s.oldState?.type ?? typeOf(s.urn))))
        .map((s) => ({
            kind: "undeployed" as const,
            urn: s.urn,
            type: s.newState?.type ?? s.oldState?.type ?? typeOf(s.urn),
            label: labelOf(s.urn, s.newState ?? s.oldState),
            op: s.op,
            changes: Object.keys(s.detailedDiff ?? {}).map((path) => ({ path, before: undefined, after: undefined })),
        }));
}

const MAX_VALUE = 200;
function show(v: unknown): string {
    if (v === undefined) return "(absent)";
    const text = JSON.stringify(v);
    return text.length > MAX_VALUE ? `${text.slice(0, MAX_VALUE)}…` : text;
}

export const ISSUE_MARKER = (stack: string) => `<!-- orders-platform:drift:${stack} -->`;
export const issueTitle = (stack: string) => `Drift detected in stack ${stack}`;

/** The issue body: what changed, where, and what to do (docs/operations.md#drift). */
export function renderMarkdown(report: DriftReport, runUrl?: string): string {
    const lines = [ISSUE_MARKER(report.stack), `### Drift in \`${report.stack}\` (checked ${report.checkedAt})`, ""];
    if (report.error) {
        lines.push(`The drift check failed, so nothing is known about drift: ${report.error}`);
    } else if (!report.drift) {
        lines.push("No drift: the live resources match the state, and the program and config match the state.");
    } else {
        const section = (kind: Finding["kind"], title: string, hint: string) => {
            const items = report.findings.filter((f) => f.kind === kind);
            if (items.length === 0) return;
            lines.push(`#### ${title} (${items.length})`, "", hint, "");
            for (const f of items) {
                lines.push(`- **${f.label}** (\`${f.type}\`)`);
                for (const c of f.changes.slice(0, 20)) {
                    lines.push(kind === "undeployed" ? `  - \`${c.path}\`` : `  - \`${c.path}\`: ${show(c.before)} → ${show(c.after)}`);
                }
                if (f.changes.length > 20) lines.push(`  - … ${f.changes.length - 20} more fields`);
            }
            lines.push("");
        };
        section("out-of-band-delete", "Deleted outside Pulumi", "Present in the state, gone from the cluster or cloud.");
        section("out-of-band-change", "Changed outside Pulumi", "State value → live value.");
        section("undeployed", "Program or config not deployed", "`pulumi preview` would change these: a deploy is missing or failed.");
        lines.push("Nothing was changed by this check. What to do: docs/operations.md, section Drift.");
    }
    if (runUrl) lines.push("", `[workflow run](${runUrl})`);
    return lines.join("\n");
}

/** One line per finding, for logs and the alert. */
export function summarize(report: DriftReport): string {
    if (report.error) return `drift check of ${report.stack} failed: ${report.error}`;
    if (!report.drift) return `no drift in ${report.stack}`;
    const counts = (k: Finding["kind"]) => report.findings.filter((f) => f.kind === k).length;
    return `drift in ${report.stack}: ${counts("out-of-band-delete")} deleted and ${counts("out-of-band-change")} changed outside Pulumi, ${counts("undeployed")} not deployed (${report.findings.map((f) => f.label).join(", ")})`;
}
