// Read helpers every resource API shares: rows carry their JSON text already (built in SQL), so an
// answer is written without parsing and re-serialising it; lists are cursor-paged by id.
import type { FastifyReply } from "fastify";
import type { Principal } from "./auth";
import { NotFoundError, ValidationError } from "./errors";
import { decodeCursor, encodeCursor } from "./ids";
import { BEARER, errorResponses, Page, PageQuery, TObject, TSchema, Type, Uuid } from "./schemas";
import { Api, principal } from "./server";

const JSON_TYPE = "application/json; charset=utf-8";

/** Sends JSON text as it is (Fastify skips its serializer for strings with a JSON content type). */
export function sendJson(reply: FastifyReply, status: number, json: string): FastifyReply {
    return reply.code(status).type(JSON_TYPE).send(json);
}

/** SQL expression formatting a timestamptz column as an RFC 3339 UTC string with milliseconds. */
export function sqlIsoTime(column: string): string {
    return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

type JsonRow = { body: string };
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

export interface ResourceDoc {
    tag: string;
    summary: string;
    /** Schema of one resource (the 200 answer, or the items of a page). */
    item: TSchema;
}

/** The OpenAPI description every resource route shares. */
const operation = (doc: ResourceDoc) => ({ tags: [doc.tag], security: BEARER, summary: doc.summary });

/** `GET <path>` with an `:id`: the row `find` gives the caller; 404 when none (unknown and someone else's answer alike). */
export function getByIdRoute(
    api: Api,
    path: string,
    doc: ResourceDoc & { resource: string; find(id: string, caller: Principal): Promise<JsonRow[]> },
): void {
    api.get(
        path,
        {
            schema: {
                ...operation(doc),
                params: Type.Object({ id: Uuid() }),
                response: { 200: doc.item, ...errorResponses([400, 401, 404, 503]) },
            },
        },
        async (request, reply) => {
            const rows = await doc.find(request.params.id, principal(request));
            if (rows.length === 0) throw new NotFoundError(doc.resource);
            return sendJson(reply, 200, rows[0].body);
        },
    );
}

type PageParams = { limit: number; cursor?: string } & Record<string, unknown>;

/** `GET <path>?limit=&cursor=` (and `filters`): one page of what `source` lists for the caller. */
export function listRoute(
    api: Api,
    path: string,
    doc: ResourceDoc & {
        description: string;
        filters?: TObject;
        errors: number[];
        source(query: PageParams, caller: Principal): PageSource;
    },
): void {
    api.get(
        path,
        {
            schema: {
                ...operation(doc),
                querystring: doc.filters ? Type.Composite([PageQuery, doc.filters]) : PageQuery,
                response: { 200: Page(doc.item, doc.description), ...errorResponses(doc.errors) },
            },
        },
        async (request, reply) => {
            const query = request.query as PageParams;
            return sendJson(reply, 200, await listPage(query, doc.source(query, principal(request))));
        },
    );
}
