// Read routes every resource API has: one row by id, and a cursor-paged list. The rows carry
// their JSON text already (built in SQL), so a reply is written without re-serialising.
import { NotFoundError } from "./errors";
import type { Route } from "./http";
import { pageJson, pageQuery, requireUuid } from "./validate";

type JsonRow = { body: string };
type PagedRow = { id: string; body: string };

/** `GET <path>` with an `:id` parameter: 200 with the row, 404 when absent, 400 on a malformed id. */
export function getByIdRoute(path: string, resource: string, find: (id: string) => Promise<JsonRow[]>): Route {
    return {
        method: "GET",
        path,
        handler: async (ctx) => {
            const rows = await find(requireUuid(ctx.params.id, "id"));
            if (rows.length === 0) throw new NotFoundError(resource);
            return { status: 200, raw: rows[0].body };
        },
    };
}

export interface PageSource {
    first(limit: number): Promise<PagedRow[]>;
    after(afterId: string, limit: number): Promise<PagedRow[]>;
}

/** One page as `{items, nextCursor}` from `?limit=&cursor=`; `source` returns at most the rows asked for. */
export async function listPage(query: URLSearchParams, source: PageSource): Promise<string> {
    const { limit, afterId } = pageQuery(query);
    // One extra row tells whether a next page exists.
    const rows = afterId ? await source.after(afterId, limit + 1) : await source.first(limit + 1);
    return pageJson(rows, limit);
}
