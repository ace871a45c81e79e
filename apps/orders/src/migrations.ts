import { Migration } from "@orders-platform/service-kit";

export const migrations: Migration[] = [
    {
        version: 1,
        name: "create orders",
        sql: `
CREATE TABLE orders (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL,
    -- The order lines, [{sku, quantity, unitPriceCents}], an immutable snapshot written with the
    -- order in the same row (one insert, no partial orders).
    items           jsonb       NOT NULL CHECK (jsonb_typeof(items) = 'array' AND jsonb_array_length(items) > 0),
    total_cents     bigint      NOT NULL CHECK (total_cents >= 0),
    status          text        NOT NULL CHECK (status IN ('created')),
    -- Idempotency-Key of the POST that created the order, and a hash of its body.
    idempotency_key text        UNIQUE,
    request_hash    text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id_id_idx ON orders (user_id, id);
`,
    },
];
