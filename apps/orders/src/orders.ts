// The orders API: create (idempotent with Idempotency-Key), get by id, list by user.
import { createHash } from "node:crypto";
import {
    Db,
    DependencyError,
    HttpError,
    getByIdRoute,
    listPage,
    rejectUnknownKeys,
    requireInteger,
    requireObject,
    requireString,
    requireUuid,
    Route,
    sqlIsoTime,
    uuidv7,
    ValidationError,
} from "@orders-platform/service-kit";
import { UserDirectory } from "./usersClient";

export const LIMITS = {
    maxItems: 100,
    maxQuantity: 10_000,
    maxUnitPriceCents: 100_000_000,
    maxSkuLength: 64,
    maxIdempotencyKeyLength: 255,
};

export interface OrderItem {
    sku: string;
    quantity: number;
    unitPriceCents: number;
}

export interface NewOrder {
    userId: string;
    items: OrderItem[];
}

const SKU = /^[A-Za-z0-9][A-Za-z0-9._:/-]*$/;
const IDEMPOTENCY_KEY = /^[\x21-\x7e]+$/;

export function parseNewOrder(input: unknown): NewOrder {
    const body = requireObject(input);
    rejectUnknownKeys(body, ["userId", "items"]);
    const userId = requireUuid(body.userId, "userId");
    const rawItems = body.items;
    if (rawItems === undefined || rawItems === null) throw new ValidationError("items", "is required");
    if (!Array.isArray(rawItems)) throw new ValidationError("items", "must be an array");
    if (rawItems.length === 0) throw new ValidationError("items", "must contain at least one item");
    if (rawItems.length > LIMITS.maxItems) throw new ValidationError("items", `must contain at most ${LIMITS.maxItems} items`);
    const items = rawItems.map((raw: unknown, i): OrderItem => {
        const path = `items[${i}]`;
        const item = requireObject(raw, path);
        rejectUnknownKeys(item, ["sku", "quantity", "unitPriceCents"], `${path}.`);
        return {
            sku: requireString(
                item,
                "sku",
                { max: LIMITS.maxSkuLength, pattern: SKU, patternMessage: "must be letters, digits and . _ : / -" },
                `${path}.sku`,
            ),
            quantity: requireInteger(item, "quantity", 1, LIMITS.maxQuantity, `${path}.quantity`),
            unitPriceCents: requireInteger(item, "unitPriceCents", 0, LIMITS.maxUnitPriceCents, `${path}.unitPriceCents`),
        };
    });
    return { userId, items };
}

export function parseIdempotencyKey(value: string | undefined): string | undefined {
    if (value === undefined) return undefined;
    if (value.length === 0 || value.length > LIMITS.maxIdempotencyKeyLength || !IDEMPOTENCY_KEY.test(value)) {
        throw new ValidationError("Idempotency-Key", `must be 1 to ${LIMITS.maxIdempotencyKeyLength} visible ASCII characters`);
    }
    return value;
}

const ORDER_JSON = `json_build_object('id', o.id, 'userId', o.user_id, 'items', o.items, 'totalCents', o.total_cents, 'status', o.status, 'createdAt', ${sqlIsoTime("o.created_at")})::text`;

const SQL = {
    // A conflicting Idempotency-Key inserts nothing and returns no row.
    insert: `INSERT INTO orders (id, user_id, items, total_cents, status, idempotency_key, request_hash)
             VALUES ($1, $2, $3, $4, 'created', $5, $6)
             ON CONFLICT (idempotency_key) DO NOTHING
             RETURNING ${sqlIsoTime("created_at")} AS created_at`,
    byKey: `SELECT o.request_hash, ${ORDER_JSON} AS body FROM orders o WHERE o.idempotency_key = $1`,
    byId: `SELECT ${ORDER_JSON} AS body FROM orders o WHERE o.id = $1`,
    firstPage: `SELECT o.id, ${ORDER_JSON} AS body FROM orders o WHERE o.user_id = $1 ORDER BY o.id LIMIT $2`,
    nextPage: `SELECT o.id, ${ORDER_JSON} AS body FROM orders o WHERE o.user_id = $1 AND o.id > $2 ORDER BY o.id LIMIT $3`,
};

function requestHash(order: NewOrder): string {
    return createHash("sha256").update(JSON.stringify(order)).digest("base64url");
}

export function orderRoutes(db: Db, users: UserDirectory): Route[] {
    async function replay(
        key: string,
        hash: string,
    ): Promise<{ status: number; raw: string; headers: Record<string, string> } | undefined> {
        const rows = await db.query<{ request_hash: string; body: string }>(SQL.byKey, [key], "orders_by_key");
        if (rows.length === 0) return undefined;
        if (rows[0].request_hash !== hash) {
            throw new HttpError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request body",
                "Idempotency-Key",
            );
        }
        // Re-serialised so a replay is byte-for-byte the shape of the first answer.
        const first = JSON.parse(rows[0].body) as { id: string };
        return { status: 201, raw: JSON.stringify(first), headers: { location: `/api/orders/${first.id}`, "idempotent-replayed": "true" } };
    }

    return [
        {
            method: "POST",
            path: "/api/orders",
            handler: async (ctx) => {
                const key = parseIdempotencyKey(ctx.header("idempotency-key"));
                const order = parseNewOrder(await ctx.json());
                const hash = key === undefined ? null : requestHash(order);
                let exists: boolean;
                try {
                    exists = await users.exists(order.userId, ctx.span);
                } catch (err) {
                    // A retry of a request that already succeeded still gets its result.
                    if (key !== undefined && err instanceof DependencyError) {
                        const previous = await replay(key, hash!);
                        if (previous) return previous;
                    }
                    throw err;
                }
                if (!exists) throw new HttpError(422, "unknown_user", `user ${order.userId} does not exist`, "userId");

                const id = uuidv7();
                let total = 0;
                for (const it of order.items) total += it.quantity * it.unitPriceCents;
                const itemsJson = JSON.stringify(order.items);
                const rows = await db.query<{ created_at: string }>(
                    SQL.insert,
                    [id, order.userId, itemsJson, total, key ?? null, hash],
                    "orders_insert",
                );
                if (rows.length === 1) {
                    const raw = `{"id":"${id}","userId":"${order.userId}","items":${itemsJson},"totalCents":${total},"status":"created","createdAt":"${rows[0].created_at}"}`;
                    return { status: 201, raw, headers: { location: `/api/orders/${id}` } };
                }
                // The key is taken: the first request's result (ON CONFLICT waited for it to commit).
                const previous = await replay(key!, hash!);
                if (previous) return previous;
                throw new HttpError(
                    409,
                    "conflict",
                    "a concurrent request with this Idempotency-Key did not complete; retry",
                    "Idempotency-Key",
                );
            },
        },
        getByIdRoute("/api/orders/:id", "order", (id) => db.query<{ body: string }>(SQL.byId, [id], "orders_by_id")),
        {
            method: "GET",
            path: "/api/orders",
            handler: async (ctx) => {
                const userId = requireUuid(ctx.query.get("userId"), "userId");
                return {
                    status: 200,
                    raw: await listPage(ctx.query, {
                        first: (limit) => db.query<{ id: string; body: string }>(SQL.firstPage, [userId, limit], "orders_first_page"),
                        after: (afterId, limit) =>
                            db.query<{ id: string; body: string }>(SQL.nextPage, [userId, afterId, limit], "orders_next_page"),
                    }),
                };
            },
        },
    ];
}
