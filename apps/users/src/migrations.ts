import { Migration } from "@orders-platform/service-kit";

export const migrations: Migration[] = [
    {
        version: 1,
        name: "create users",
        sql: `
CREATE TABLE users (
    id         uuid        PRIMARY KEY,
    email      text        NOT NULL CHECK (length(email) BETWEEN 3 AND 254),
    name       text        NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at timestamptz NOT NULL DEFAULT now()
);
-- Emails are unique regardless of case.
CREATE UNIQUE INDEX users_email_lower_key ON users (lower(email));
`,
    },
];
