// Turns schema issues into one message a user can act on: the key, the value, what is allowed.
import * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";

export const CONFIG_NAMESPACE = "orders-platform";
/** Top-level keys whose values are secrets: messages name the key but never show the value. */
export const SECRET_CONFIG_KEYS: ReadonlySet<string> = new Set(["alertingSecrets"]);

/** A bad stack config value. A RunError, so Pulumi prints the message without a stack trace. */
export class ConfigError extends pulumi.RunError {
    constructor(
        readonly stack: string,
        readonly problems: string[],
    ) {
        super(`invalid stack config for stack "${stack}":\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

/** `orders-platform:apps.users.canary.weight` for path ["apps", "users", "canary", "weight"]. */
export function keyName(path: ReadonlyArray<PropertyKey>): string {
    const [top, ...rest] = path.map(String);
    return `${CONFIG_NAMESPACE}:${[top, ...rest].filter((p) => p !== undefined).join(".")}`;
}

function show(value: unknown): string {
    if (value === undefined) return "(not set)";
    const text = JSON.stringify(value);
    return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function valueAt(root: unknown, path: ReadonlyArray<PropertyKey>): unknown {
    let cur: unknown = root;
    for (const p of path) {
        if (cur === null || typeof cur !== "object") return undefined;
        cur = (cur as Record<PropertyKey, unknown>)[p];
    }
    return cur;
}

// Walks wrappers (default, optional, pipe, effects) down to the object schema at `path`.
// zod keeps its definitions under `_zod.def`; only the parts used here are touched.
function schemaAt(schema: any, path: ReadonlyArray<PropertyKey>): any {
    let cur = schema;
    const unwrap = () => {
        for (;;) {
            const def = cur?._zod?.def;
            if (!def) return;
            if (def.innerType) cur = def.innerType;
            else if (def.type === "pipe") cur = def.in?._zod?.def?.type === "transform" ? def.out : def.in;
            else return;
        }
    };
    unwrap();
    for (const p of path) {
        const def = cur?._zod?.def;
        if (def?.type === "object") cur = def.shape[p as string];
        else if (def?.type === "record") cur = def.valueType;
        else return undefined;
        unwrap();
    }
    return cur;
}

/** Lines "key = value: problem" for every issue zod found. */
export function describeIssues(schema: z.ZodType, raw: unknown, issues: z.core.$ZodIssue[]): string[] {
    return issues.map((issue) => {
        if (issue.code === "unrecognized_keys") {
            const allowed = Object.keys(schemaAt(schema, issue.path)?._zod?.def?.shape ?? {});
            return issue.keys
                .map(
                    (k) =>
                        `${keyName([...issue.path, k])} = ${show(valueAt(raw, [...issue.path, k]))}: unknown key` +
                        (allowed.length ? `; allowed keys here: ${allowed.join(", ")}` : ""),
                )
                .join("\n  - ");
        }
        const found = valueAt(raw, issue.path);
        const value = found !== undefined && SECRET_CONFIG_KEYS.has(String(issue.path[0])) ? "(secret)" : found;
        const message = issue.code === "invalid_type" && value === undefined ? "is required" : issue.message;
        return `${keyName(issue.path)} = ${show(value)}: ${message}`;
    });
}
