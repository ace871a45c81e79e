// The users API. A profile belongs to the token's user claim (its "subject"): the caller creates
// their own profile with POST, reads it at /me or by id; only admins read other profiles and list
// them all. Someone else's profile answers 404, exactly like one that does not exist. The email of
// a profile is the address the token's issuer verified, never one the caller types: nobody can
// take someone else's address, or learn which addresses have a profile.
import {
    Api,
    BEARER,
    Db,
    errorResponses,
    ForbiddenError,
    getByIdRoute,
    HttpError,
    listRoute,
    principal,
    sqlIsoTime,
    Static,
    Text,
    Timestamp,
    Type,
    Uuid,
    uuidv7,
    ValidationError,
} from "@orders-platform/service-kit";

export const User = Type.Object(
    {
        id: Uuid(),
        email: Type.String({ description: "The address the token's issuer verified when the profile was created" }),
        name: Type.String(),
        createdAt: Timestamp,
    },
    { description: "A user profile" },
);

export const NewUser = Type.Object(
    {
        name: Text(200, "Display name"),
    },
    {
        additionalProperties: false,
        description: "The email comes from the token: its verified email claim (AUTH_EMAIL_CLAIM, AUTH_EMAIL_VERIFIED_CLAIM)",
    },
);

type UserRow = Static<typeof User>;

/** The columns of a profile, named like its JSON properties. */
const USER = `id, email, name, ${sqlIsoTime("created_at")} AS "createdAt"`;

const SQL = {
    // Conflicts (subject or email taken) insert nothing and return no row.
    insert: `INSERT INTO users (id, subject, email, name) VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING ${USER}`,
    subjectTaken: `SELECT EXISTS (SELECT 1 FROM users WHERE subject = $1) AS taken`,
    bySubject: `SELECT ${USER} FROM users WHERE subject = $1`,
    // $3: the caller is an admin and may read anyone's profile.
    byIdFor: `SELECT ${USER} FROM users WHERE id = $1 AND (subject = $2 OR $3)`,
    firstPage: `SELECT ${USER} FROM users ORDER BY id LIMIT $1`,
    nextPage: `SELECT ${USER} FROM users WHERE id > $1 ORDER BY id LIMIT $2`,
};

/** People type stray spaces around names: they are not part of the value. An email is refused with a reason. */
function prepareBody(body: unknown): void {
    if (body === null || typeof body !== "object" || Array.isArray(body)) return;
    const fields = body as Record<string, unknown>;
    if ("email" in fields) throw new ValidationError("email", "comes from the token's verified email claim; leave it out of the body");
    if (typeof fields.name === "string") fields.name = fields.name.trim();
}

const API = { tags: ["users"], security: BEARER };

export function userRoutes(api: Api, db: Db): void {
    api.post(
        "/api/users",
        {
            preValidation: (request, _reply, done) => {
                try {
                    prepareBody(request.body);
                    done();
                } catch (err) {
                    done(err as Error);
                }
            },
            schema: {
                ...API,
                summary: "Create the caller's profile (one per token subject) with the token's verified email",
                body: NewUser,
                response: {
                    201: { ...User, description: "The created profile" },
                    ...errorResponses([400, 401, 403, 409, 413, 415, 503], {
                        403: "The token carries no verified email address (email_unverified)",
                        409: "The caller already has a profile (profile_exists), or another profile has the caller's verified email (email_taken)",
                    }),
                },
            },
        },
        async (request, reply) => {
            const me = principal(request);
            if (me.email === undefined) {
                throw new HttpError(
                    403,
                    "email_unverified",
                    "the token carries no verified email address: a profile takes the address the issuer verified",
                    "Authorization",
                );
            }
            const rows = await db.query<UserRow>(SQL.insert, [uuidv7(), me.subject, me.email, request.body.name], "users_insert");
            if (rows.length === 1) return reply.code(201).send(rows[0]);
            const [{ taken }] = await db.query<{ taken: boolean }>(SQL.subjectTaken, [me.subject], "users_subject_taken");
            if (taken) throw new HttpError(409, "profile_exists", "this user already has a profile (GET /api/users/me)");
            // Only the verified owner of the address gets here: nothing is revealed to anyone else.
            throw new HttpError(409, "email_taken", "another profile already has your verified email address", "Authorization");
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
        async (request) => {
            const rows = await db.query<UserRow>(SQL.bySubject, [principal(request).subject], "users_by_subject");
            if (rows.length === 0) throw new HttpError(404, "not_found", "no profile yet: create it with POST /api/users");
            return rows[0];
        },
    );

    getByIdRoute(api, "/api/users/:id", {
        tag: "users",
        summary: "A profile by id: the caller's own, or anyone's for an admin",
        item: User,
        resource: "user",
        find: (id, me) => db.query<UserRow>(SQL.byIdFor, [id, me.subject, me.admin], "users_by_id_for"),
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
                first: (limit) => db.query<UserRow>(SQL.firstPage, [limit], "users_first_page"),
                after: (afterId, limit) => db.query<UserRow>(SQL.nextPage, [afterId, limit], "users_next_page"),
            };
        },
    });
}
