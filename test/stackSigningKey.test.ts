// `npm run token`'s library: the dev stack's signing key from its state, and tokens that the
// stack's edge (Istio's JWKS) and apps (AUTH_* settings) accept.
import { strict as assert } from "node:assert";
import * as pulumi from "@pulumi/pulumi";
import type * as Jose from "jose" with { "resolution-mode": "import" };
import { LocalIssuer } from "../components/auth";
import {
    CliRunner,
    mintToken,
    parseSigningOutput,
    readStackSigningKey,
    StackSigningKey,
    StackSigningKeyError,
} from "../scripts/lib/stackSigningKey";
import { ProgramRun, runProgram, runStack } from "./harness";

const CLI = { kind: "installed" as const, bin: "/opt/pulumi/bin/pulumi", root: "/opt/pulumi" };

describe("dev tokens from the stack's signing key", function () {
    this.timeout(120_000);
    let dev: ProgramRun<Record<string, any>>;
    let calls: Array<{ bin: string; args: string[]; cwd: string }>;
    // jose is ESM-only; this suite is CommonJS.
    let createLocalJWKSet: typeof Jose.createLocalJWKSet;
    let decodeProtectedHeader: typeof Jose.decodeProtectedHeader;
    let jwtVerify: typeof Jose.jwtVerify;
    /** The CLI, answering from the dev stack's outputs (as `pulumi stack output` prints them). */
    const fakeCli: CliRunner = (bin, args, cwd) => {
        calls.push({ bin, args, cwd });
        return { status: 0, stdout: `${JSON.stringify(dev.outputs.devAuth, null, 4)}\n`, stderr: "" };
    };

    before(async () => {
        ({ createLocalJWKSet, decodeProtectedHeader, jwtVerify } = await import("jose"));
        dev = await runStack("dev");
    });
    beforeEach(() => (calls = []));

    const jwtRule = () => dev.find((r) => r.inputs.kind === "RequestAuthentication")[0].inputs.spec.jwtRules[0];

    it("reads the key with `pulumi stack output devAuth --json --show-secrets` for the named stack", () => {
        const key = readStackSigningKey("dev", { projectDir: "/work/project", cli: CLI, run: fakeCli });
        assert.deepEqual(calls, [
            { bin: CLI.bin, args: ["stack", "output", "devAuth", "--json", "--show-secrets", "--stack", "dev"], cwd: "/work/project" },
        ]);
        assert.equal(key.issuer, jwtRule().issuer);
        assert.equal(key.algorithm, "ES256");
        assert.match(key.privateKeyPem, /^-----BEGIN PRIVATE KEY-----/);
        assert.deepEqual(key.claims, {
            user: "sub",
            email: "email",
            emailVerified: "email_verified",
            roles: "roles",
            canary: { name: "roles", value: "canary-tester" },
        });
    });

    it("mints a token the gateway's RequestAuthentication and the apps' AUTH_* settings accept", async () => {
        const key = readStackSigningKey("dev", { projectDir: ".", cli: CLI, run: fakeCli });
        const token = await mintToken(key, { user: "alice", roles: ["admin"], canary: true });
        const rule = jwtRule();
        const { payload } = await jwtVerify(token, createLocalJWKSet(JSON.parse(rule.jwks)), {
            issuer: rule.issuer,
            audience: rule.audiences,
        });
        assert.equal(payload.sub, "alice");
        assert.deepEqual(payload.roles, ["admin", "canary-tester"]);
        // A profile takes its email from the verified claim only (apps/users).
        assert.equal(payload.email, "alice@example.com");
        assert.equal(payload.email_verified, true);
        assert.equal(decodeProtectedHeader(token).kid, JSON.parse(rule.jwks).keys[0].kid);
        // The apps get the same issuer, audience and keys.
        const app = dev.get("kubernetes:core/v1:ConfigMap", "users-config").inputs.data;
        assert.equal(app.AUTH_ISSUER, rule.issuer);
        assert.equal(app.AUTH_AUDIENCES, rule.audiences.join(","));
        assert.equal(app.AUTH_JWKS, rule.jwks);
        assert.equal(app.AUTH_JWKS_URI, undefined);
        assert.equal(app.AUTH_EMAIL_CLAIM, "email");
        assert.equal(app.AUTH_EMAIL_VERIFIED_CLAIM, "email_verified");
        await jwtVerify(token, createLocalJWKSet(JSON.parse(app.AUTH_JWKS)), { issuer: app.AUTH_ISSUER, audience: app.AUTH_AUDIENCES });
    });

    it("gives Istio and the apps only public keys", () => {
        for (const key of JSON.parse(jwtRule().jwks).keys) {
            assert.deepEqual(Object.keys(key).sort(), ["alg", "crv", "kid", "kty", "use", "x", "y"]);
        }
    });

    it("expires tokens (one hour by default) and names the canary claim separately when it is not the roles claim", async () => {
        const key: StackSigningKey = {
            ...readStackSigningKey("dev", { projectDir: ".", cli: CLI, run: fakeCli }),
        };
        const rule = jwtRule();
        const jwks = createLocalJWKSet(JSON.parse(rule.jwks));
        const now = new Date("2030-01-01T00:00:00Z");
        const token = await mintToken(key, { user: "bob", now });
        const { payload } = await jwtVerify(token, jwks, { currentDate: now });
        assert.equal(payload.exp! - payload.iat!, 3600);
        assert.equal(payload.roles, undefined);
        await assert.rejects(jwtVerify(token, jwks, { currentDate: new Date("2030-01-01T01:00:01Z") }), /"exp" claim/);
        const custom = await mintToken(
            {
                ...key,
                claims: {
                    user: "email",
                    email: "email",
                    emailVerified: "email_verified",
                    roles: "groups",
                    canary: { name: "beta", value: "yes" },
                },
            },
            { user: "carol@example.com", canary: true },
        );
        const p = (await jwtVerify(custom, jwks)).payload;
        assert.equal(p.email, "carol@example.com");
        assert.equal(p.beta, "yes");
        assert.equal(p.groups, undefined);
    });

    it("says why when the CLI fails or the stack has no local issuer", () => {
        const failing: CliRunner = () => ({ status: 255, stdout: "", stderr: "error: no stack named 'qa' found\n" });
        assert.throws(
            () => readStackSigningKey("qa", { projectDir: ".", cli: CLI, run: failing }),
            (err: Error) =>
                err instanceof StackSigningKeyError && /stack "qa"/.test(err.message) && /no stack named 'qa' found/.test(err.message),
        );
        const noIssuer: CliRunner = () => ({ status: 0, stdout: "null\n", stderr: "" });
        assert.throws(
            () => readStackSigningKey("staging", { projectDir: ".", cli: CLI, run: noIssuer }),
            /stack "staging" has no devAuth output: it is not its own issuer/,
        );
        assert.throws(() => parseSigningOutput({ issuer: "x" }, "dev"), /lacks audience, algorithm, keyId, privateKeyPem, claims/);
    });

    it("keeps the private key a Pulumi secret, the public keys plain", async () => {
        const run = await runProgram(async () => {
            const issuer = new LocalIssuer("local-issuer", {
                audience: "orders-api",
                claims: {
                    user: "sub",
                    email: "email",
                    emailVerified: "email_verified",
                    roles: "roles",
                    canary: { name: "roles", value: "canary-tester" },
                },
            });
            return { secret: await pulumi.isSecret(issuer.signing), jwksSecret: await pulumi.isSecret(issuer.jwks) };
        });
        assert.deepEqual(run.outputs, { secret: true, jwksSecret: false });
    });
});
