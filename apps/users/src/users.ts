// The users API. A profile belongs to the token's user claim (its "subject"): the caller creates
// their own profile with POST, reads it at /me or by id; only admins read other profiles and list
// them all. Someone else's profile answers 404, exactly like one that does not exist.
import {
    Api,
    BEARER,
    Db,
    errorResponses,
    ForbiddenError,
    getByIdRoute,
    HttpError,
    listRoute,
    PATTERN_MESSAGE,
    principal,
    sendJson,
    sqlIsoTime,
    Text,
    Timestamp,
    Type,
    Uuid,
    uuidv7,
} from "@orders-platform/service-kit";

export const User = Type.Object(
    {
        id: Uuid(),
        email: Type.String(),
        name: Type.String(),
        createdAt: Timestamp,
    },
    { description: "A user profile" },
);

export const NewUser = Type.Object(
    {
        email: Type.String({
            minLength: 3,
            maxLength: 254,
            pattern: "^[^\\s@\\p{C}]+@[^\\s@\\p{C}]+\\.[^\\s@\\p{C}]+$",
            [PATTERN_MESSAGE]: "must be an email address",
            description: "Unique regardless of case",
        }),
        name: Text(200, "Display name"),
    },
    { additionalProperties: false },
);

const USER_JSON = `json_build_object('id', id, 'email', email, 'name', name, 'createdAt', ${sqlIsoTime("created_at")})::text`;

const SQL = {
    // Conflicts (subject or email taken) insert nothing and return no row.
    insert: `INSERT INTO users (id, subject, email, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING ${USER_JSON} AS body`,
    subjectTaken: `SELECT EXISTS (SELECT 1 FROM users WHERE subject = $1) AS taken`,
    bySubject: `SELECT ${USER_JSON} AS body FROM users WHERE subject = $1`,
    // $3: the caller is an admin and may read anyone's profile.
    byIdFor: `SELECT ${USER_JSON} AS body FROM users WHERE id = $1 AND (subject = $2 OR $3)`,
    firstPage: `SELECT id, ${USER_JSON} AS body FROM users ORDER BY id LIMIT $1`,
    nextPage: `SELECT id, ${USER_JSON} AS body FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
};

type JsonRow = { body: string };
type PagedRow = { id: string; body: string };

/** People type stray spaces around names and emails: they are not part of the value. */
function trimTextFields(body: unknown): void {
    if (body === null || typeof body !== "object" || Array.isArray(body)) return;
    const fields = body as Record<string, unknown>;
    for (const key of ["email", "name"]) if (typeof fields[key] === "string") fields[key] = (fields[key] as string).trim();
}

const API = { tags: ["users"], security: BEARER };

export function userRoutes(api: Api, db: Db): void {
    api.post(
        "/api/users",
        {
            preValidation: (request, _reply, done) => {
                trimTextFields(request.body);
                done();
            },
            schema: {
                ...API,
                summary: "Create the caller's profile (one per token subject)",
                body: NewUser,
                response: {
                    201: { ...User, description: "The created profile" },
                    ...errorResponses([400, 401, 409, 413, 415, 503], {
                        409: "The caller already has a profile (profile_exists), or the email is taken (email_taken)",
                    }),
                },
            },
        },
        async (request, reply) => {
            const me = principal(request);
            const { email, name } = request.body;
            const rows = await db.query<JsonRow>(SQL.insert, [uuidv7(), me.subject, email, name], "users_insert");
            if (rows.length === 1) return sendJson(reply, 201, rows[0].body);
            const [{ taken }] = await db.query<{ taken: boolean }>(SQL.subjectTaken, [me.subject], "users_subject_taken");
            if (taken) throw new HttpError(409, "profile_exists", "this user already has a profile (GET /api/users/me)");
            throw new HttpError(409, "email_taken", "a user with this email already exists", "email");
        },
    );

    api.get(
        "/api/users/me",
        {
            schema: {
                ...API,
                summary: "The caller's profile",
                response: {
                    200: User,
                    ...errorResponses([401, 404, 503], { 404: "The caller has no profile yet: create it with POST /api/users" }),
                },
            },
        },
        async (request, reply) => {
            const rows = await db.query<JsonRow>(SQL.bySubject, [principal(request).subject], "users_by_subject");
            if (rows.length === 0) throw new HttpError(404, "not_found", "no profile yet: create it with POST /api/users");
            return sendJson(reply, 200, rows[0].body);
        },
    );

    getByIdRoute(api, "/api/users/:id", {
        tag: "users",
        summary: "A profile by id: the caller's own, or anyone's for an admin",
        item: User,
        resource: "user",
        find: (id, me) => db.query<JsonRow>(SQL.byIdFor, [id, me.subject, me.admin], "users_by_id_for"),
    });

    listRoute(api, "/api/users", {
        tag: "users",
        summary: "Every profile, oldest first (admins only)",
        item: User,
        description: "One page of profiles",
        errors: [400, 401, 403, 503],
        source: (_query, me) => {
            if (!me.admin) throw new ForbiddenError("listing users needs the admin role");
            return {
                first: (limit) => db.query<PagedRow>(SQL.firstPage, [limit], "users_first_page"),
                after: (afterId, limit) => db.query<PagedRow>(SQL.nextPage, [afterId, limit], "users_next_page"),
            };
        },
    });
}
