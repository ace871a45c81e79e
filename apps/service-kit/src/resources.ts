// Read helpers every resource API shares: rows carry their JSON text already (built in SQL), so an
// answer is written without parsing and re-serialising it; lists are cursor-paged by id.
import type { FastifyReply } from "fastify";
import { ValidationError } from "./errors";
import { decodeCursor, encodeCursor } from "./ids";

const JSON_TYPE = "application/json; charset=utf-8";

/** Sends JSON text as it is (Fastify skips its serializer for strings with a JSON content type). */
export function sendJson(reply: FastifyReply, status: number, json: string): FastifyReply {
    return reply.code(status).type(JSON_TYPE).send(json);
}

/** SQL expression formatting a timestamptz column as an RFC 3339 UTC string with milliseconds. */
export function sqlIsoTime(column: string): string {
    return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

type PagedRow = { id: string; body: string };

export interface PageSource {
    first(limit: number): Promise<PagedRow[]>;
    after(afterId: string, limit: number): Promise<PagedRow[]>;
}

/** One page as `{items, nextCursor}` JSON; `source` returns at most the rows asked for. */
export async function listPage(query: { limit: number; cursor?: string }, source: PageSource): Promise<string> {
    const { limit, cursor } = query;
    let afterId: string | undefined;
    if (cursor !== undefined) {
        afterId = decodeCursor(cursor);
        if (!afterId) throw new ValidationError("cursor", "is not a cursor returned by this API");
    }
    // One extra row tells whether a next page exists.
    const rows = afterId ? await source.after(afterId, limit + 1) : await source.first(limit + 1);
    const more = rows.length > limit;
    const page = more ? rows.slice(0, limit) : rows;
    const next = more ? JSON.stringify(encodeCursor(String(page[page.length - 1].id))) : "null";
    return `{"items":[${page.map((r) => r.body).join(",")}],"nextCursor":${next}}`;
}
