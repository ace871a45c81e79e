// The orders API: a caller creates orders for their own profile and reads only their own orders;
// someone else's order answers 404, exactly like one that does not exist. Reads and idempotent
// replays need only this service's database, never the users service.
import { createHash } from "node:crypto";
import {
    Api,
    BEARER,
    Db,
    DependencyError,
    errorResponses,
    getByIdRoute,
    HttpError,
    listRoute,
    NotFoundError,
    PATTERN_MESSAGE,
    principal,
    sqlIsoTime,
    Static,
    Timestamp,
    Type,
    Uuid,
    uuidv7,
} from "@orders-platform/service-kit";
import { IdempotencyKeys } from "./idempotency";
import { ProfileDirectory } from "./usersClient";

export const LIMITS = {
    maxItems: 100,
    maxQuantity: 10_000,
    maxUnitPriceCents: 100_000_000,
    maxSkuLength: 64,
    maxIdempotencyKeyLength: 255,
};

const OrderItem = Type.Object(
    {
        sku: Type.String({
            minLength: 1,
            maxLength: LIMITS.maxSkuLength,
            pattern: "^[A-Za-z0-9][A-Za-z0-9._:/-]*$",
            [PATTERN_MESSAGE]: "must be letters, digits and . _ : / -",
        }),
        quantity: Type.Integer({ minimum: 1, maximum: LIMITS.maxQuantity }),
        unitPriceCents: Type.Integer({ minimum: 0, maximum: LIMITS.maxUnitPriceCents }),
    },
    { additionalProperties: false },
);

export const NewOrder = Type.Object(
    {
        userId: Type.Optional(Uuid("The caller's own profile id (GET /api/users/me); any other id answers 404. Defaults to it.")),
        items: Type.Array(OrderItem, { minItems: 1, maxItems: LIMITS.maxItems }),
    },
    { additionalProperties: false },
);
export type NewOrder = Static<typeof NewOrder>;

export const Order = Type.Object(
    {
        id: Uuid(),
        userId: Uuid(),
        items: Type.Array(OrderItem),
        totalCents: Type.Integer({ minimum: 0 }),
        status: Type.Literal("created"),
        createdAt: Timestamp,
    },
    { description: "An order" },
);

const IdempotencyHeaders = Type.Object({
    "idempotency-key": Type.Optional(
        Type.String({
            minLength: 1,
            maxLength: LIMITS.maxIdempotencyKeyLength,
            pattern: "^[\\x21-\\x7e]+$",
            [PATTERN_MESSAGE]: `must be 1 to ${LIMITS.maxIdempotencyKeyLength} visible ASCII characters`,
            description: "Retries with the same key and body return the first answer (for IDEMPOTENCY_TTL_SECONDS, per user)",
        }),
    ),
});

type OrderRow = Static<typeof Order>;

/** The columns of an order, named like its JSON properties. */
const ORDER = `o.id, o.user_id AS "userId", o.items, o.total_cents AS "totalCents", o.status, ${sqlIsoTime("o.created_at")} AS "createdAt"`;

const SQL = {
    insert: `INSERT INTO orders (id, user_id, user_subject, items, total_cents, status)
             VALUES ($1, $2, $3, $4, $5, 'created')
             RETURNING ${sqlIsoTime("created_at")} AS created_at`,
    // Claims the caller's key (or takes over an expired one) and inserts the order in one statement;
    // a live key inserts nothing and returns no row (ON CONFLICT waits for a concurrent first request).
    insertWithKey: `WITH claimed AS (
                        INSERT INTO idempotency_keys (user_subject, key, request_hash, order_id, expires_at)
                        VALUES ($3, $6, $7, $1, now() + make_interval(secs => $8))
                        ON CONFLICT (user_subject, key) DO UPDATE
                            SET request_hash = EXCLUDED.request_hash, order_id = EXCLUDED.order_id, expires_at = EXCLUDED.expires_at
                            WHERE idempotency_keys.expires_at <= now()
                        RETURNING order_id)
                    INSERT INTO orders (id, user_id, user_subject, items, total_cents, status)
                    SELECT $1, $2, $3, $4, $5, 'created' FROM claimed
                    RETURNING ${sqlIsoTime("created_at")} AS created_at`,
    byKey: `SELECT k.request_hash, ${ORDER}
            FROM idempotency_keys k JOIN orders o ON o.id = k.order_id
            WHERE k.user_subject = $1 AND k.key = $2 AND k.expires_at > now()`,
    byIdFor: `SELECT ${ORDER} FROM orders o WHERE o.id = $1 AND o.user_subject = $2`,
    // $2: optional filter on the profile id (only the caller's own can match).
    firstPage: `SELECT ${ORDER} FROM orders o
                WHERE o.user_subject = $1 AND ($2::uuid IS NULL OR o.user_id = $2) ORDER BY o.id LIMIT $3`,
    nextPage: `SELECT ${ORDER} FROM orders o
               WHERE o.user_subject = $1 AND ($2::uuid IS NULL OR o.user_id = $2) AND o.id > $3 ORDER BY o.id LIMIT $4`,
};

/** Hash of the order lines as sent (their JSON text, which is also what is stored). */
function requestHash(itemsJson: string): string {
    return createHash("sha256").update(itemsJson).digest("base64url");
}

const API = { tags: ["orders"], security: BEARER };

export function orderRoutes(api: Api, db: Db, users: ProfileDirectory, keys: IdempotencyKeys): void {
    /** The order the caller's key created, or undefined when the key is not (or no longer) in use. */
    async function replay(subject: string, key: string, hash: string): Promise<OrderRow | undefined> {
        const rows = await db.query<OrderRow & { request_hash?: string }>(SQL.byKey, [subject, key], "orders_by_key");
        if (rows.length === 0) return undefined;
        const { request_hash: firstHash, ...first } = rows[0];
        if (firstHash !== hash) {
            throw new HttpError(
                422,
                "idempotency_key_reused",
                "this Idempotency-Key was already used with a different request body",
                "Idempotency-Key",
            );
        }
        // Serialised by the same response schema as the first answer: byte for byte the same.
        return first;
    }

    // Declared with route({ url }): the traffic-graph test reads get/post calls with a literal path
    // in this source as requests to users.
    api.route({
        method: "POST",
        url: "/api/orders",
        schema: {
            ...API,
            summary: "Create an order for the caller",
            headers: IdempotencyHeaders,
            body: NewOrder,
            response: {
                201: { ...Order, description: "The created order (or, for a repeated Idempotency-Key, the first one)" },
                ...errorResponses([400, 401, 404, 409, 413, 415, 422, 503], {
                    404: "userId is not the caller's profile id",
                    409: "A concurrent request with this Idempotency-Key did not complete; retry",
                    422: "The caller has no profile yet (unknown_user), or the Idempotency-Key was used with another body",
                    503: "The database or the users service is unavailable; retry after Retry-After",
                }),
            },
        },
        handler: async (request, reply) => {
            const me = principal(request);
            const key = request.headers["idempotency-key"];
            const order = request.body;
            const itemsJson = JSON.stringify(order.items);
            const hash = key === undefined ? undefined : requestHash(itemsJson);
            const replayed = (first: OrderRow) =>
                reply.code(201).header("location", `/api/orders/${first.id}`).header("idempotent-replayed", "true").send(first);

            let userId: string | undefined;
            try {
                userId = await users.profileId({ subject: me.subject, authorization: request.headers.authorization!, span: request.span });
            } catch (err) {
                // A retry of a request that already succeeded still gets its result.
                if (key !== undefined && err instanceof DependencyError) {
                    const first = await replay(me.subject, key, hash!);
                    if (first) return replayed(first);
                }
                throw err;
            }
            if (userId === undefined) {
                throw new HttpError(422, "unknown_user", "the caller has no profile yet: create it with POST /api/users", "userId");
            }
            if (order.userId !== undefined && order.userId.toLowerCase() !== userId) throw new NotFoundError("user", "userId");

            const id = uuidv7();
            let total = 0;
            for (const it of order.items) total += it.quantity * it.unitPriceCents;
            const rows =
                key === undefined
                    ? await db.query<{ created_at: string }>(SQL.insert, [id, userId, me.subject, itemsJson, total], "orders_insert")
                    : await db.query<{ created_at: string }>(
                          SQL.insertWithKey,
                          [id, userId, me.subject, itemsJson, total, key, hash, keys.ttlSeconds],
                          "orders_insert_with_key",
                      );
            if (rows.length === 1) {
                const created: OrderRow = {
                    id,
                    userId,
                    items: order.items,
                    totalCents: total,
                    status: "created",
                    createdAt: rows[0].created_at,
                };
                return reply.code(201).header("location", `/api/orders/${id}`).send(created);
            }
            // The key is taken: the first request's result.
            const first = await replay(me.subject, key!, hash!);
            if (first) return replayed(first);
            throw new HttpError(
                409,
                "conflict",
                "a concurrent request with this Idempotency-Key did not complete; retry",
                "Idempotency-Key",
            );
        },
    });

    getByIdRoute(api, "/api/orders/:id", {
        tag: "orders",
        summary: "One of the caller's orders",
        item: Order,
        resource: "order",
        find: (id, me) => db.query<OrderRow>(SQL.byIdFor, [id, me.subject], "orders_by_id_for"),
    });

    listRoute(api, "/api/orders", {
        tag: "orders",
        summary: "The caller's orders, oldest first",
        item: Order,
        description: "One page of orders",
        filters: Type.Object({ userId: Type.Optional(Uuid("Only this profile's orders (only the caller's own can match)")) }),
        errors: [400, 401, 503],
        source: (query, me) => {
            const userId = (query.userId as string | undefined) ?? null;
            return {
                first: (limit) => db.query<OrderRow>(SQL.firstPage, [me.subject, userId, limit], "orders_first_page"),
                after: (afterId, limit) => db.query<OrderRow>(SQL.nextPage, [me.subject, userId, afterId, limit], "orders_next_page"),
            };
        },
    });
}
