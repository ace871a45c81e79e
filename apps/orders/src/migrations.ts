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
    {
        version: 2,
        name: "orders belong to a token subject; idempotency keys per user, with expiry",
        sql: `
-- The token's user claim that created the order: only that user reads it. Orders created before
-- authentication have none and are no longer readable through the API.
ALTER TABLE orders ADD COLUMN user_subject text;
DROP INDEX orders_user_id_id_idx;
CREATE INDEX orders_user_subject_id_idx ON orders (user_subject, id);
-- Idempotency keys move to their own table: scoped to the user, and they expire.
ALTER TABLE orders DROP COLUMN idempotency_key, DROP COLUMN request_hash;
CREATE TABLE idempotency_keys (
    user_subject text        NOT NULL,
    key          text        NOT NULL,
    -- Hash of the request body: the same key with another body is refused.
    request_hash text        NOT NULL,
    order_id     uuid        NOT NULL,
    expires_at   timestamptz NOT NULL,
    PRIMARY KEY (user_subject, key)
);
CREATE INDEX idempotency_keys_expires_at_idx ON idempotency_keys (expires_at);
`,
    },
];
