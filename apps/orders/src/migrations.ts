import { Migration } from "@orders-platform/service-kit";

export const migrations: Migration[] = [
    {
        version: 1,
        name: "create orders and order_items",
        sql: `
CREATE TABLE orders (
    id              uuid        PRIMARY KEY,
    user_id         uuid        NOT NULL,
    total_cents     bigint      NOT NULL CHECK (total_cents >= 0),
    status          text        NOT NULL CHECK (status IN ('created')),
    -- Idempotency-Key of the POST that created the order, and a hash of its body.
    idempotency_key text        UNIQUE,
    request_hash    text,
    created_at      timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_user_id_id_idx ON orders (user_id, id);

CREATE TABLE order_items (
    order_id         uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no          integer NOT NULL,
    sku              text    NOT NULL,
    quantity         integer NOT NULL CHECK (quantity > 0),
    unit_price_cents bigint  NOT NULL CHECK (unit_price_cents >= 0),
    PRIMARY KEY (order_id, line_no)
);
`,
    },
];
