// Token verification rules, against a running users service: who is let in (401 otherwise),
// who is an admin, and where the signing keys come from (inline JWKS or a JWKS URL).
import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import { SignJWT, UnsecuredJWT } from "jose";
import { createKey, DEV_AUDIENCE, DEV_ISSUER, mintToken } from "../../../scripts/token";
import { baseEnv, quiet, request, scratchDbEnv, Stub, stubServer, testAuth } from "../../service-kit/test/helpers";
import { startUsers } from "../src/app";

const ME = "/api/users/me";

describe("authentication", () => {
    let svc: RunningService;
    const withToken = (token: string, path = ME) => request(svc.url, "GET", path, { headers: { authorization: `Bearer ${token}` } });

    before(async () => {
        svc = await startUsers({
            env: await baseEnv({ ...(await scratchDbEnv()), AUTH_AUDIENCES: `${DEV_AUDIENCE}, second-audience` }),
            logSink: quiet,
        });
        await svc.ready;
    });
    after(async () => {
        await svc?.shutdown("test done");
    });

    it("a valid token is let in (404: no profile yet, but authenticated)", async () => {
        const res = await withToken(await (await testAuth()).token("valid-user"));
        assert.equal(res.status, 404, res.text);
    });

    it("no Authorization header -> 401 with WWW-Authenticate: Bearer", async () => {
        const res = await request(svc.url, "GET", ME);
        assert.equal(res.status, 401);
        assert.equal(res.headers["www-authenticate"], "Bearer");
        assert.equal(res.body.error, "unauthorized");
        assert.equal(res.body.field, "Authorization");
    });

    for (const header of ["Basic dXNlcjpwYXNz", "Bearer", "Bearer not.a.jwt", "token-without-scheme"]) {
        it(`Authorization: ${JSON.stringify(header)} -> 401 invalid_token`, async () => {
            const res = await request(svc.url, "GET", ME, { headers: { authorization: header } });
            assert.equal(res.status, 401, res.text);
            assert.match(String(res.headers["www-authenticate"]), /^Bearer/);
        });
    }

    const rejected: Array<[string, () => Promise<string>]> = [
        ["another issuer", async () => (await testAuth()).token("u", { issuer: "https://evil.example" })],
        ["another audience", async () => (await testAuth()).token("u", { audience: "someone-else" })],
        ["expired", async () => (await testAuth()).token("u", { ttlSeconds: 1, claims: { exp: Math.floor(Date.now() / 1000) - 60 } })],
        ["no exp claim", async () => (await testAuth()).token("u", { claims: { exp: undefined } })],
        ["no user claim", async () => mintToken((await testAuth()).key, {})],
        ["an empty user claim", async () => (await testAuth()).token("")],
        ["signed by another key", async () => mintToken(await createKey(), { sub: "u" })],
        [
            "HS256 (a shared secret, not an asymmetric key)",
            () =>
                new SignJWT({})
                    .setProtectedHeader({ alg: "HS256" })
                    .setSubject("u")
                    .setIssuer(DEV_ISSUER)
                    .setAudience(DEV_AUDIENCE)
                    .setExpirationTime("1h")
                    .sign(new TextEncoder().encode("a-shared-secret-of-thirty-two-bytes!")),
        ],
        [
            'alg "none" (unsigned)',
            async () =>
                new UnsecuredJWT({}).setSubject("u").setIssuer(DEV_ISSUER).setAudience(DEV_AUDIENCE).setExpirationTime("1h").encode(),
        ],
    ];
    for (const [what, token] of rejected) {
        it(`a token with ${what} -> 401`, async () => {
            const res = await withToken(await token());
            assert.equal(res.status, 401, res.text);
            assert.equal(res.headers["www-authenticate"], 'Bearer error="invalid_token"');
        });
    }

    it("the token's aud must contain one of AUTH_AUDIENCES (several may be configured)", async () => {
        const auth = await testAuth();
        assert.equal((await withToken(await auth.token("aud-1", { audience: "second-audience" }))).status, 404);
        assert.equal((await withToken(await auth.token("aud-2", { audience: ["other", DEV_AUDIENCE] }))).status, 404);
    });

    it("admin: the roles claim as an array or a space-separated string", async () => {
        const auth = await testAuth();
        assert.equal((await withToken(await auth.token("plain"), "/api/users")).status, 403);
        assert.equal(
            (await withToken(await auth.token("array-admin", { claims: { roles: ["user", "admin"] } }), "/api/users")).status,
            200,
        );
        assert.equal((await withToken(await auth.token("string-admin", { claims: { roles: "user admin" } }), "/api/users")).status, 200);
        assert.equal((await withToken(await auth.token("not-admin", { claims: { roles: "administrator" } }), "/api/users")).status, 403);
    });
});

describe("authentication from a JWKS URL, with custom claim names", () => {
    let svc: RunningService;
    let jwks: Stub;
    const key = createKey();

    before(async () => {
        const published = (await key).publicJwks;
        jwks = await stubServer(
            (_req, res) => void res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify(published)),
        );
        const env = await baseEnv({
            ...(await scratchDbEnv()),
            AUTH_JWKS_URI: `${jwks.url}/.well-known/jwks.json`,
            AUTH_USER_CLAIM: "uid",
            AUTH_ROLES_CLAIM: "groups",
            AUTH_ADMIN_ROLE: "ops",
            AUTH_EMAIL_CLAIM: "mail",
            AUTH_EMAIL_VERIFIED_CLAIM: "mail_checked",
        });
        delete env.AUTH_JWKS;
        svc = await startUsers({ env, logSink: quiet });
        await svc.ready;
    });
    after(async () => {
        await svc?.shutdown("test done");
        await jwks?.close();
    });

    const get = async (path: string, claims: Record<string, unknown>) =>
        request(svc.url, "GET", path, { headers: { authorization: `Bearer ${await mintToken(await key, { sub: "ignored", claims })}` } });

    it("verifies against the fetched keys and names the user by AUTH_USER_CLAIM", async () => {
        const created = await request(svc.url, "POST", "/api/users", {
            body: { name: "Uid" },
            headers: {
                authorization: `Bearer ${await mintToken(await key, { claims: { uid: "user-42", mail: "uid@example.com", mail_checked: true } })}`,
            },
        });
        assert.equal(created.status, 201, created.text);
        assert.equal(created.body.email, "uid@example.com");
        const me = await get(ME, { uid: "user-42" });
        assert.equal(me.status, 200);
        assert.equal(me.body.id, created.body.id);
        assert.equal((await get(ME, { sub: "user-42" })).status, 401, "sub is not the user claim here");
        assert.ok(jwks.requests >= 1);
    });

    it("the email by AUTH_EMAIL_CLAIM / AUTH_EMAIL_VERIFIED_CLAIM: the standard claim names do not count here", async () => {
        const standard = await mintToken(await key, { email: "std@example.com", claims: { uid: "user-43" } });
        const res = await request(svc.url, "POST", "/api/users", {
            body: { name: "Std" },
            headers: { authorization: `Bearer ${standard}` },
        });
        assert.equal(res.status, 403, res.text);
        assert.equal(res.body.error, "email_unverified");
    });

    it("admin by AUTH_ROLES_CLAIM / AUTH_ADMIN_ROLE", async () => {
        assert.equal((await get("/api/users", { uid: "u1", groups: ["ops"] })).status, 200);
        assert.equal((await get("/api/users", { uid: "u2", roles: ["admin"] })).status, 403);
    });
});

describe("authentication when the JWKS cannot be fetched", () => {
    it("answers 503 naming jwks (the token may be fine; the keys are unavailable)", async () => {
        const jwks = await stubServer((_req, res) => void res.writeHead(500).end());
        const env = await baseEnv({ ...(await scratchDbEnv()), AUTH_JWKS_URI: `${jwks.url}/jwks.json` });
        delete env.AUTH_JWKS;
        const svc = await startUsers({ env, logSink: quiet });
        try {
            await svc.ready;
            const res = await request(svc.url, "GET", ME, { headers: await (await testAuth()).as("someone") });
            assert.equal(res.status, 503, res.text);
            assert.equal(res.body.dependency, "jwks");
            assert.equal(res.headers["retry-after"], "1");
            assert.ok(jwks.requests >= 1);
        } finally {
            await svc.shutdown("test done");
            await jwks.close();
        }
    });
});
