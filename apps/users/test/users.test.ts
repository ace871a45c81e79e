import { strict as assert } from "node:assert";
import { RunningService } from "@orders-platform/service-kit";
import type { TokenOptions } from "../../../scripts/token";
import {
    baseEnv,
    forEachBackend,
    ISO_RE,
    quiet,
    request,
    testAuth,
    UUID_RE,
    VALIDATOR_DEFAULT_WORDING,
} from "../../service-kit/test/helpers";
import manifest from "../package.json";
import { startUsers } from "../src/app";

type Opts = { body?: unknown; raw?: string | Buffer; headers?: Record<string, string> };
/** A request with a token of `TokenOptions` (admin, the email claims). */
type AsOpts = Opts & TokenOptions;

forEachBackend("users API", "users_test", (backend) => {
    let svc: RunningService;
    let n = 0;
    /** A fresh subject per call, so tests do not share profiles. */
    const subject = (what: string) => `${what}-${++n}-${Date.now().toString(36)}`;
    const call = (method: string, path: string, opts?: Opts) => request(svc.url, method, path, opts);
    /** A request as `sub`: admin with `admin: true`; the token's verified email is `<sub>@example.com` unless `email` says otherwise. */
    const as = async (sub: string, method: string, path: string, opts: AsOpts = {}) => {
        const { admin, email, emailVerified, claims, ...rest } = opts;
        const token = await (await testAuth()).as(sub, { admin, email, emailVerified, claims });
        return call(method, path, { ...rest, headers: { ...token, ...rest.headers } });
    };
    const countUsers = async () => Number((await svc.db.query<{ n: number }>("SELECT count(*)::int AS n FROM users"))[0].n);
    const createProfile = async (sub: string, email = `${sub}@example.com`, name = sub) => {
        const res = await as(sub, "POST", "/api/users", { body: { name }, email });
        assert.equal(res.status, 201, res.text);
        return res.body as { id: string; email: string; name: string; createdAt: string };
    };

    before(async () => {
        svc = await startUsers({ env: await baseEnv(await backend().env("users")), logSink: quiet });
        await svc.ready;
    });
    after(async () => {
        await svc?.shutdown("test done");
    });

    describe("POST /api/users", () => {
        it("creates the caller's profile with the token's verified email: 201 with id, email, name, createdAt", async () => {
            const res = await as(subject("ada"), "POST", "/api/users", { body: { name: "Ada Lovelace" }, email: "ada@example.com" });
            assert.equal(res.status, 201, res.text);
            assert.match(res.headers["content-type"] ?? "", /^application\/json/);
            assert.deepEqual(Object.keys(res.body).sort(), ["createdAt", "email", "id", "name"]);
            assert.match(res.body.id, UUID_RE);
            assert.equal(res.body.email, "ada@example.com");
            assert.equal(res.body.name, "Ada Lovelace");
            assert.match(res.body.createdAt, ISO_RE);
            assert.ok(Math.abs(Date.parse(res.body.createdAt) - Date.now()) < 60_000);
        });

        it("answers compact JSON (no pretty-printing) on create and on read", async () => {
            const sub = subject("compact");
            const created = await as(sub, "POST", "/api/users", { body: { name: "Compact" } });
            assert.equal(created.status, 201, created.text);
            for (const res of [created, await as(sub, "GET", `/api/users/${created.body.id}`), await as(sub, "GET", "/api/users/me")]) {
                assert.equal(res.text, JSON.stringify(JSON.parse(res.text)), res.text);
            }
        });

        it("trims names", async () => {
            const res = await as(subject("tim"), "POST", "/api/users", { body: { name: "  Tim " } });
            assert.equal(res.status, 201);
            assert.equal(res.body.name, "Tim");
        });

        it("an email in the body -> 400 naming email, even the token's own: the address is the token's, nothing written", async () => {
            const sub = subject("squatter");
            const before = await countUsers();
            for (const email of ["victim@example.com", `${sub}@example.com`]) {
                const res = await as(sub, "POST", "/api/users", { body: { email, name: "Squatter" } });
                assert.equal(res.status, 400, res.text);
                assert.equal(res.body.field, "email");
                assert.match(res.body.message, /verified email claim/);
            }
            assert.equal(await countUsers(), before);
        });

        it("no one can take another person's address or learn whether it has a profile: only the verified claim counts", async () => {
            await createProfile(subject("owner"), "owner@example.com");
            // Someone else names that address in the body: refused as input, never a 409 that says it exists.
            const probe = await as(subject("prober"), "POST", "/api/users", { body: { email: "owner@example.com", name: "P" } });
            assert.equal(probe.status, 400, probe.text);
            assert.notEqual(probe.body.error, "email_taken");
            // Their own token's address is used instead, so they get their own profile.
            const own = await as(subject("prober"), "POST", "/api/users", { body: { name: "P" }, email: "prober@example.com" });
            assert.equal(own.status, 201, own.text);
            assert.equal(own.body.email, "prober@example.com");
        });

        const unverified: Array<[string, TokenOptions]> = [
            ["no email claim", { email: null }],
            ["email_verified false", { email: "unverified@example.com", emailVerified: false }],
            ["no email_verified claim", { email: null, claims: { email: "noflag@example.com" } }],
            ['email_verified as the string "false"', { email: null, claims: { email: "sf@example.com", email_verified: "false" } }],
            ["a verified email that is not an address", { email: "not-an-address" }],
            ["a verified email that is not a string", { email: null, claims: { email: 42, email_verified: true } }],
            ["a verified email with a NUL byte", { email: "nul\u0000@example.com" }],
            ["a verified email longer than 254 characters", { email: "a".repeat(250) + "@example.com" }],
        ];
        for (const [what, token] of unverified) {
            it(`a token with ${what} cannot create a profile -> 403 email_unverified, nothing written`, async () => {
                const before = await countUsers();
                const res = await as(subject("unverified"), "POST", "/api/users", { body: { name: "U" }, ...token });
                assert.equal(res.status, 403, res.text);
                assert.equal(res.body.error, "email_unverified");
                assert.equal(await countUsers(), before);
            });
        }

        it('email_verified as the string "true" (as some issuers send it) counts as verified', async () => {
            const sub = subject("string-true");
            const res = await as(sub, "POST", "/api/users", {
                body: { name: "S" },
                email: null,
                claims: { email: `${sub}@example.com`, email_verified: "true" },
            });
            assert.equal(res.status, 201, res.text);
            assert.equal(res.body.email, `${sub}@example.com`);
        });

        it("one profile per subject: a second one -> 409 profile_exists, nothing written", async () => {
            const sub = subject("twice");
            await createProfile(sub);
            const before = await countUsers();
            const res = await as(sub, "POST", "/api/users", { body: { name: "Again" } });
            assert.equal(res.status, 409, res.text);
            assert.equal(res.body.error, "profile_exists");
            assert.equal(await countUsers(), before);
        });

        it("two subjects whose issuer verified the same address (any case) -> the second gets 409 email_taken, no second row", async () => {
            await createProfile(subject("dup"), "dup@example.com");
            const before = await countUsers();
            for (const email of ["dup@example.com", "DUP@Example.com"]) {
                const res = await as(subject("dup-other"), "POST", "/api/users", { body: { name: "Two" }, email });
                assert.equal(res.status, 409, res.text);
                assert.equal(res.body.error, "email_taken");
            }
            assert.equal(await countUsers(), before);
        });

        it("concurrent creates with the same verified email: exactly one 201, the rest 409", async () => {
            const results = await Promise.all(
                Array.from({ length: 20 }, (_, i) =>
                    as(subject("race"), "POST", "/api/users", { body: { name: `R${i}` }, email: "race@example.com" }),
                ),
            );
            assert.equal(results.filter((r) => r.status === 201).length, 1);
            assert.equal(results.filter((r) => r.status === 409).length, 19);
        });

        it("without a token -> 401 and nothing written", async () => {
            const before = await countUsers();
            const res = await call("POST", "/api/users", { body: { name: "Anon" } });
            assert.equal(res.status, 401, res.text);
            assert.equal(res.headers["www-authenticate"], "Bearer");
            assert.equal(await countUsers(), before);
        });

        const bad: Array<[string, Opts, number, string]> = [
            ["missing name", { body: {} }, 400, "name"],
            ["email given in the body", { body: { email: "m@example.com", name: "x" } }, 400, "email"],
            ["email not a string", { body: { email: 42, name: "x" } }, 400, "email"],
            ["name not a string", { body: { name: ["x"] } }, 400, "name"],
            ["email null", { body: { email: null, name: "x" } }, 400, "email"],
            ["empty name", { body: { name: "   " } }, 400, "name"],
            ["name too long", { body: { name: "x".repeat(201) } }, 400, "name"],
            ["name of 201 characters outside the BMP", { body: { name: "😀".repeat(201) } }, 400, "name"],
            ["NUL byte in the name", { body: { name: "Ada\u0000Lovelace" } }, 400, "name"],
            ["NUL byte in an email in the body", { body: { email: "nul\u0000@example.com", name: "x" } }, 400, "email"],
            ["control character in the name", { body: { name: "Ada\u0007" } }, 400, "name"],
            ["newline in the name", { body: { name: "Ada\nLovelace" } }, 400, "name"],
            ["C1 control character in the name", { body: { name: "Ada\u0085" } }, 400, "name"],
            ["line separator in the name", { body: { name: "Ada\u2028Lovelace" } }, 400, "name"],
            ["name of zero-width characters only", { body: { name: "\u200b\u200c\u200d\ufeff" } }, 400, "name"],
            ["name of a Hangul filler only", { body: { name: "\u3164\u3164" } }, 400, "name"],
            ["name of combining marks only", { body: { name: "\u0301\u0302" } }, 400, "name"],
            ["right-to-left override in the name", { body: { name: "Ada \u202Eecalevol" } }, 400, "name"],
            ["left-to-right embedding in the name", { body: { name: "\u202AAda" } }, 400, "name"],
            ["right-to-left isolate in the name", { body: { name: "Ada \u2067x\u2069" } }, 400, "name"],
            ["right-to-left mark in the name", { body: { name: "Ada\u200F" } }, 400, "name"],
            ["Arabic letter mark in the name", { body: { name: "\u061CAda" } }, 400, "name"],
            ["five combining marks on one letter", { body: { name: "Ze\u0301\u0302\u0303\u0304\u0305d" } }, 400, "name"],
            ["hundreds of stacked combining marks", { body: { name: "Z" + "\u0336".repeat(300) } }, 400, "name"],
            ["lone high surrogate in the name", { raw: '{"name":"Ada \\ud800"}' }, 400, "name"],
            ["lone low surrogate in an email in the body", { raw: '{"email":"ls2\\udc00@example.com","name":"x"}' }, 400, "email"],
            ["unknown field", { body: { name: "x", admin: true } }, 400, "admin"],
            ["body is an array", { body: [{ name: "x" }] }, 400, "body"],
            ["body is a string", { body: "hello" }, 400, "body"],
            ["body is null", { raw: "null" }, 400, "body"],
            ["malformed JSON", { raw: '{"name": ' }, 400, "body"],
            ["empty body", { raw: "" }, 400, "body"],
            [
                "not JSON content type",
                { raw: "name=a", headers: { "content-type": "application/x-www-form-urlencoded" } },
                415,
                "content-type",
            ],
            ["text/plain body", { raw: '{"name":"x"}', headers: { "content-type": "text/plain" } }, 415, "content-type"],
            ["body over 1 MiB", { body: { name: "x", pad: "y".repeat(1024 * 1024) } }, 413, "body"],
        ];
        for (const [what, opts, status, field] of bad) {
            it(`bad input: ${what} -> ${status} naming ${field}, nothing written`, async () => {
                const before = await countUsers();
                const res = await as(subject("bad"), "POST", "/api/users", opts);
                assert.equal(res.status, status, res.text);
                assert.equal(typeof res.body?.error, "string", res.text);
                assert.equal(res.body.field, field, res.text);
                assert.doesNotMatch(res.body.message, VALIDATOR_DEFAULT_WORDING, "our own wording, not the validator's");
                assert.equal(await countUsers(), before);
            });
        }

        it("lengths count characters: 200 characters outside the BMP (400 UTF-16 units) are a valid name", async () => {
            const res = await as(subject("emoji"), "POST", "/api/users", { body: { name: "😀".repeat(200) } });
            assert.equal(res.status, 201, res.text);
            assert.equal([...res.body.name].length, 200);
        });

        it("names in any script, with joiners and a few combining marks inside, are fine", async () => {
            const decomposed = "Nguye\u0302\u0303n"; // ễ as e + two combining marks
            const fourMarks = "Ze\u0301\u0302\u0303\u0304d";
            for (const name of [
                "Zoë Ångström",
                "李小龙",
                "محمد\u200cعلی",
                "👩\u200d💻 Dev",
                "שָׁלוֹם",
                decomposed,
                fourMarks,
                "1\ufe0f\u20e3",
            ]) {
                const res = await as(subject("intl"), "POST", "/api/users", { body: { name } });
                assert.equal(res.status, 201, `${name}: ${res.text}`);
                assert.equal(res.body.name, name);
            }
        });
    });

    describe("GET /api/users/me and /api/users/:id", () => {
        it("/me -> the caller's profile; 404 before it exists", async () => {
            const sub = subject("me");
            const missing = await as(sub, "GET", "/api/users/me");
            assert.equal(missing.status, 404, missing.text);
            const created = await createProfile(sub);
            const me = await as(sub, "GET", "/api/users/me");
            assert.equal(me.status, 200);
            assert.deepEqual(me.body, created);
        });

        it("the owner reads their profile by id, also with an upper-case id", async () => {
            const sub = subject("owner");
            const created = await createProfile(sub);
            const res = await as(sub, "GET", `/api/users/${created.id}`);
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, created);
            const upper = await as(sub, "GET", `/api/users/${created.id.toUpperCase()}`);
            assert.equal(upper.status, 200);
            assert.equal(upper.body.id, created.id);
        });

        it("someone else's profile -> 404, the same answer as an unknown id", async () => {
            const created = await createProfile(subject("private"));
            const other = await as(subject("nosy"), "GET", `/api/users/${created.id}`);
            const unknown = await as(subject("nosy"), "GET", "/api/users/0190a6f0-0000-7000-8000-000000000000");
            assert.equal(other.status, 404);
            assert.equal(unknown.status, 404);
            assert.deepEqual(other.body, unknown.body);
        });

        it("an admin reads anyone's profile", async () => {
            const created = await createProfile(subject("someone"));
            const res = await as(subject("root"), "GET", `/api/users/${created.id}`, { admin: true });
            assert.equal(res.status, 200, res.text);
            assert.deepEqual(res.body, created);
        });

        it("without a token -> 401", async () => {
            const created = await createProfile(subject("tokenless"));
            assert.equal((await call("GET", `/api/users/${created.id}`)).status, 401);
            assert.equal((await call("GET", "/api/users/me")).status, 401);
        });

        for (const id of ["nope", "123", "0190a6f0-0000-7000-8000-00000000000g", "%E0%A4%A", "'%20OR%201=1"]) {
            it(`invalid id ${JSON.stringify(id)} -> 400 naming the id or the path`, async () => {
                const res = await as(subject("invalid"), "GET", `/api/users/${id}`);
                assert.equal(res.status, 400, res.text);
                assert.equal(typeof res.body.error, "string");
                assert.ok(["id", "path"].includes(res.body.field), res.text);
            });
        }
    });

    describe("GET /api/users (admins only)", () => {
        it("a non-admin -> 403", async () => {
            const res = await as(subject("plain"), "GET", "/api/users");
            assert.equal(res.status, 403, res.text);
            assert.equal(res.body.error, "forbidden");
        });

        it("an admin pages through every user with limit and cursor", async () => {
            for (let i = 0; i < 5; i++) await createProfile(subject("page"));
            const total = await countUsers();
            const seen: string[] = [];
            let cursor: string | null = null;
            let pages = 0;
            do {
                const res: Awaited<ReturnType<typeof call>> = await as(
                    "admin",
                    "GET",
                    `/api/users?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`,
                    { admin: true },
                );
                assert.equal(res.status, 200, res.text);
                assert.ok(Array.isArray(res.body.items));
                assert.ok(res.body.items.length <= 2);
                assert.ok("nextCursor" in res.body);
                for (const u of res.body.items) {
                    assert.deepEqual(Object.keys(u).sort(), ["createdAt", "email", "id", "name"]);
                    seen.push(u.id);
                }
                cursor = res.body.nextCursor;
                pages++;
            } while (cursor && pages < 100);
            assert.equal(seen.length, total);
            assert.equal(new Set(seen).size, total, "no user twice");
            assert.deepEqual(seen, [...seen].sort(), "stable order");
        });

        it("defaults to 20 items and nextCursor null on the last page", async () => {
            const res = await as("admin", "GET", "/api/users", { admin: true });
            assert.equal(res.status, 200);
            assert.ok(res.body.items.length <= 20);
            const all = await as("admin", "GET", "/api/users?limit=100", { admin: true });
            assert.equal(all.body.nextCursor, null);
        });

        for (const [q, field] of [
            ["limit=0", "limit"],
            ["limit=101", "limit"],
            ["limit=abc", "limit"],
            ["limit=-1", "limit"],
            ["limit=1.5", "limit"],
            ["cursor=not-a-cursor!", "cursor"],
            ["cursor=Zm9v", "cursor"],
        ]) {
            it(`?${q} -> 400 naming ${field}`, async () => {
                const res = await as("admin", "GET", `/api/users?${q}`, { admin: true });
                assert.equal(res.status, 400, res.text);
                assert.equal(res.body.field, field);
            });
        }
    });

    describe("operations", () => {
        it("GET /healthz -> 200", async () => {
            const res = await call("GET", "/healthz");
            assert.equal(res.status, 200);
            assert.equal(res.body.status, "ok");
        });

        it("GET /readyz -> 200 with the database check", async () => {
            const res = await call("GET", "/readyz");
            assert.equal(res.status, 200, res.text);
            assert.deepEqual(res.body.checks, { database: "ok" });
        });

        it("GET /version -> app name and SemVer from package.json", async () => {
            const res = await call("GET", "/version");
            assert.equal(res.status, 200);
            assert.deepEqual(res.body, { name: "users", version: manifest.version });
            assert.match(res.body.version, /^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/);
        });

        it("GET /metrics -> Prometheus text with request counts and latency histograms by route template, method, status", async () => {
            await as(subject("metrics"), "GET", "/api/users/0190a6f0-0000-7000-8000-000000000000");
            await call("GET", "/api/users/me");
            await call("GET", "/nope");
            const res = await call("GET", "/metrics");
            assert.equal(res.status, 200);
            assert.match(res.headers["content-type"] ?? "", /^text\/plain/);
            assert.match(res.text, /# TYPE http_requests_total counter/);
            assert.match(res.text, /# TYPE http_request_duration_seconds histogram/);
            assert.match(res.text, /# TYPE http_requests_in_flight gauge/);
            assert.match(res.text, /http_requests_total\{route="\/api\/users\/:id",method="GET",status="404",app="users"\} \d+/);
            assert.match(res.text, /http_requests_total\{route="\/api\/users\/me",method="GET",status="401",app="users"\} \d+/);
            assert.match(res.text, /http_requests_total\{route="unmatched",method="GET",status="404",app="users"\} \d+/);
            assert.match(res.text, /http_requests_total\{route="\/healthz",method="GET",status="200",app="users"\} \d+/);
            assert.match(
                res.text,
                /http_request_duration_seconds_bucket\{le="0\.005",app="users",route="\/api\/users",method="POST",status="201"\} \d+/,
            );
            assert.match(res.text, /process_cpu_seconds_total/);
            assert.match(res.text, /nodejs_eventloop_lag_seconds/);
        });

        it("unknown route or method -> 404 JSON naming the path", async () => {
            const missing = await call("GET", "/nope");
            assert.equal(missing.status, 404);
            assert.equal(missing.body.error, "not_found");
            assert.equal(missing.body.field, "path");
            const wrong = await as(subject("wrong"), "DELETE", "/api/users");
            assert.equal(wrong.status, 404);
            assert.equal(wrong.body.error, "not_found");
        });
    });
});
