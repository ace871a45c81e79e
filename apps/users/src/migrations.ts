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
    {
        version: 2,
        name: "users belong to a token subject",
        sql: `
-- The value of the token's user claim that owns the profile: one profile per subject. Rows created
-- before authentication have none and are visible to admins only.
ALTER TABLE users ADD COLUMN subject text CHECK (length(subject) BETWEEN 1 AND 255);
CREATE UNIQUE INDEX users_subject_key ON users (subject);
`,
    },
];
