// Token verification settings shared by the edge and the apps, and the local issuer's JWKS.
import { strict as assert } from "node:assert";
import { generateKeyPairSync } from "node:crypto";
import { appAuthEnv, jwkThumbprint, LOCAL_ISSUER, publicJwks, tokenVerification } from "../components/auth";
import { authSchema } from "../components/config";

describe("auth: token verification", () => {
    it("gives the apps the contract's AUTH_* settings: the issuer's JWKS URI, or the public keys inline", () => {
        const issuer = authSchema.parse({
            issuer: "https://auth.example.com/",
            jwksUri: "https://auth.example.com/jwks",
            audiences: ["orders-api", "orders-admin"],
            userClaim: "email",
            emailClaim: "mail",
            emailVerifiedClaim: "mail_verified",
        });
        assert.deepEqual(appAuthEnv(tokenVerification(issuer)), {
            AUTH_ISSUER: "https://auth.example.com/",
            AUTH_AUDIENCES: "orders-api,orders-admin",
            AUTH_JWKS_URI: "https://auth.example.com/jwks",
            AUTH_USER_CLAIM: "email",
            AUTH_EMAIL_CLAIM: "mail",
            AUTH_EMAIL_VERIFIED_CLAIM: "mail_verified",
            AUTH_ROLES_CLAIM: "roles",
            AUTH_ADMIN_ROLE: "admin",
        });
        const local = tokenVerification(authSchema.parse({ localIssuer: true }), { jwks: '{"keys":[]}' });
        const env = appAuthEnv(local);
        assert.equal(env.AUTH_ISSUER, LOCAL_ISSUER);
        assert.equal(env.AUTH_JWKS, '{"keys":[]}');
        assert.equal("AUTH_JWKS_URI" in env, false, "exactly one of AUTH_JWKS_URI and AUTH_JWKS");
        assert.throws(() => tokenVerification(authSchema.parse({ localIssuer: true })), /no local issuer was created/);
    });

    it("derives the public JWKS of a P-256 key with its RFC 7638 thumbprint as kid", async () => {
        const { calculateJwkThumbprint } = await import("jose");
        const { publicKey } = generateKeyPairSync("ec", { namedCurve: "P-256" });
        const jwks = JSON.parse(publicJwks(publicKey.export({ type: "spki", format: "pem" }).toString()));
        assert.equal(jwks.keys.length, 1);
        const [key] = jwks.keys;
        assert.deepEqual([key.kty, key.crv, key.alg, key.use], ["EC", "P-256", "ES256", "sig"]);
        assert.equal(key.kid, await calculateJwkThumbprint({ kty: key.kty, crv: key.crv, x: key.x, y: key.y }));
        assert.equal(jwkThumbprint(key), key.kid);
        assert.equal(key.d, undefined, "no private member");
    });
});
