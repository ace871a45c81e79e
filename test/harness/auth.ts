// Token verification for tests that build components directly: the stack's issuer, or for the
// local issuer (dev) the public keys of a test key pair made once per process.
import { generateKeyPairSync } from "node:crypto";
import { publicJwks, tokenVerification, type TokenVerification } from "../../components/auth/authSpec";
import type { StackConfig } from "../../components/config";

let testKey: { privateKeyPem: string; publicKeyPem: string } | undefined;

/** An ECDSA P-256 key pair for signing test tokens (PEM, PKCS#8 / SPKI). */
export function testSigningKey(): { privateKeyPem: string; publicKeyPem: string } {
    if (!testKey) {
        const pair = generateKeyPairSync("ec", { namedCurve: "P-256" });
        testKey = {
            privateKeyPem: pair.privateKey.export({ type: "pkcs8", format: "pem" }).toString(),
            publicKeyPem: pair.publicKey.export({ type: "spki", format: "pem" }).toString(),
        };
    }
    return testKey;
}

export function testAuth(config: StackConfig): TokenVerification {
    return tokenVerification(config.auth, { jwks: publicJwks(testSigningKey().publicKeyPem) });
}
