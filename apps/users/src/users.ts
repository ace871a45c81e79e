// The users API: create, get by id, list with cursor pagination.
import {
    Db,
    HttpError,
    getByIdRoute,
    listPage,
    rejectUnknownKeys,
    requireObject,
    requireString,
    Route,
    sqlIsoTime,
    uuidv7,
} from "@orders-platform/service-kit";

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const USER_JSON = `json_build_object('id', id, 'email', email, 'name', name, 'createdAt', ${sqlIsoTime("created_at")})::text`;

const SQL = {
    insert: `INSERT INTO users (id, email, name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING ${USER_JSON} AS body`,
    byId: `SELECT ${USER_JSON} AS body FROM users WHERE id = $1`,
    firstPage: `SELECT id, ${USER_JSON} AS body FROM users ORDER BY id LIMIT $1`,
    nextPage: `SELECT id, ${USER_JSON} AS body FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
};

export interface NewUser {
    email: string;
    name: string;
}

export function parseNewUser(input: unknown): NewUser {
    const body = requireObject(input);
    rejectUnknownKeys(body, ["email", "name"]);
    const email = requireString(body, "email", { min: 3, max: 254, pattern: EMAIL, patternMessage: "must be an email address" });
    const name = requireString(body, "name", { max: 200 });
    return { email, name };
}

export function userRoutes(db: Db): Route[] {
    return [
        {
            method: "POST",
            path: "/api/users",
            handler: async (ctx) => {
                const user = parseNewUser(await ctx.json());
                const rows = await db.query<{ body: string }>(SQL.insert, [uuidv7(), user.email, user.name], "users_insert");
                if (rows.length === 0) throw new HttpError(409, "email_taken", "a user with this email already exists", "email");
                return { status: 201, raw: rows[0].body };
            },
        },
        getByIdRoute("/api/users/:id", "user", (id) => db.query<{ body: string }>(SQL.byId, [id], "users_by_id")),
        {
            method: "GET",
            path: "/api/users",
            handler: async (ctx) => ({
                status: 200,
                raw: await listPage(ctx.query, {
                    first: (limit) => db.query<{ id: string; body: string }>(SQL.firstPage, [limit], "users_first_page"),
                    after: (afterId, limit) => db.query<{ id: string; body: string }>(SQL.nextPage, [afterId, limit], "users_next_page"),
                }),
            }),
        },
    ];
}
