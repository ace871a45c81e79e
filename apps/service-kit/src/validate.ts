// Small, allocation-light validators. Each failure throws a ValidationError naming the field.
import { ValidationError } from "./errors";
import { decodeCursor, isUuid } from "./ids";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export function requireObject(value: unknown, field = "body"): Record<string, unknown> {
    if (value === null || typeof value !== "object" || Array.isArray(value)) {
        throw new ValidationError(field, "must be a JSON object");
    }
    return value as Record<string, unknown>;
}

export interface StringRules {
    min?: number;
    max: number;
    pattern?: RegExp;
    patternMessage?: string;
    trim?: boolean;
}

export function requireString(obj: Record<string, unknown>, key: string, rules: StringRules, path = key): string {
    const raw = obj[key];
    if (raw === undefined || raw === null) throw new ValidationError(path, "is required");
    if (typeof raw !== "string") throw new ValidationError(path, "must be a string");
    const v = rules.trim === false ? raw : raw.trim();
    const min = rules.min ?? 1;
    if (v.length < min) throw new ValidationError(path, min === 1 ? "must not be empty" : `must be at least ${min} characters`);
    if (v.length > rules.max) throw new ValidationError(path, `must be at most ${rules.max} characters`);
    if (rules.pattern && !rules.pattern.test(v)) throw new ValidationError(path, rules.patternMessage ?? "has an invalid format");
    return v;
}

export function requireInteger(obj: Record<string, unknown>, key: string, min: number, max: number, path = key): number {
    const v = obj[key];
    if (v === undefined || v === null) throw new ValidationError(path, "is required");
    if (typeof v !== "number" || !Number.isInteger(v)) throw new ValidationError(path, "must be an integer");
    if (v < min || v > max) throw new ValidationError(path, `must be between ${min} and ${max}`);
    return v;
}

export function requireUuid(value: unknown, path: string): string {
    if (value === undefined || value === null || value === "") throw new ValidationError(path, "is required");
    if (!isUuid(value)) throw new ValidationError(path, "must be a UUID");
    return value.toLowerCase();
}

/** Rejects keys the contract does not know, so typos do not pass silently. */
export function rejectUnknownKeys(obj: Record<string, unknown>, allowed: readonly string[], prefix = ""): void {
    for (const key of Object.keys(obj)) {
        if (!allowed.includes(key)) throw new ValidationError(prefix + key, "is not a known field");
    }
}

export interface PageQuery {
    limit: number;
    afterId?: string;
}

/** `limit` (1..max, default def) and an opaque `cursor` from a previous page. */
export function pageQuery(query: URLSearchParams, def = 20, max = 100): PageQuery {
    const rawLimit = query.get("limit");
    let limit = def;
    if (rawLimit !== null && rawLimit !== "") {
        if (!/^\d{1,6}$/.test(rawLimit)) throw new ValidationError("limit", `must be an integer between 1 and ${max}`);
        limit = Number(rawLimit);
        if (limit < 1 || limit > max) throw new ValidationError("limit", `must be an integer between 1 and ${max}`);
    }
    const rawCursor = query.get("cursor");
    if (rawCursor === null || rawCursor === "") return { limit };
    const afterId = decodeCursor(rawCursor);
    if (!afterId) throw new ValidationError("cursor", "is not a cursor returned by this API");
    return { limit, afterId };
}

/** SQL expression formatting a timestamptz column as an RFC 3339 UTC string with milliseconds. */
export function sqlIsoTime(column: string): string {
    return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

/**
 * `{"items":[...],"nextCursor":...}` from rows that already carry their JSON text. Pass `limit + 1`
 * rows when there are more: the extra row only says that a next page exists.
 */
export function pageJson(rows: ReadonlyArray<{ id: string; body: string }>, limit: number): string {
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const next = more ? JSON.stringify(encodeCursorOf(page[page.length - 1].id)) : "null";
    return `{"items":[${page.map((r) => r.body).join(",")}],"nextCursor":${next}}`;
}

function encodeCursorOf(id: string): string {
    return Buffer.from(String(id), "latin1").toString("base64url");
}
