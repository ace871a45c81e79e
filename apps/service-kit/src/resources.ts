// Read helpers every resource API shares: a row is the resource (columns named like its JSON
// properties), serialised by the route's compiled response schema; lists are cursor-paged by id.
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

/** A resource as the database returns it: its properties, the id among them. */
export type ResourceRow = { id: string } & Record<string, unknown>;

export interface PageSource {
    first(limit: number): Promise<ResourceRow[]>;
    after(afterId: string, limit: number): Promise<ResourceRow[]>;
}

export interface PageOf {
    items: ResourceRow[];
    nextCursor: string | null;
}

/** One page as `{items, nextCursor}`; `source` returns at most the rows asked for. */
export async function listPage(query: { limit: number; cursor?: string }, source: PageSource): Promise<PageOf> {
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
    return { items: page, nextCursor: more ? encodeCursor(String(page[page.length - 1].id)) : null };
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
    doc: ResourceDoc & { resource: string; find(id: string, caller: Principal): Promise<ResourceRow[]> },
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
        async (request) => {
            const rows = await doc.find(request.params.id, principal(request));
            if (rows.length === 0) throw new NotFoundError(doc.resource);
            return rows[0];
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
        async (request) => {
            const query = request.query as PageParams;
            return listPage(query, doc.source(query, principal(request)));
        },
    );
}
