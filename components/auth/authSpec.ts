// How tokens are verified, as pure functions of config: the settings the edge (Istio) and the
// apps (AUTH_* environment, the apps' contract) share, and the public JWKS of the local issuer.
import { createHash, createPublicKey, type JsonWebKey } from "node:crypto";
import type * as pulumi from "@pulumi/pulumi";
import type { AuthConfig } from "../config";

/** `iss` of the tokens the local issuer (dev) signs; never reachable, only compared. */
export const LOCAL_ISSUER = "https://issuer.orders-platform.localhost/";
/** JWS algorithm of the local issuer's key (ECDSA P-256). */
export const LOCAL_KEY_ALGORITHM = "ES256";

/** Everything needed to verify a token; shared by the ingress gateway and the apps. */
export interface TokenVerification {
    issuer: string;
    audiences: string[];
    /** Exactly one of jwksUri and jwks. */
    jwksUri?: string;
    /** Public JWKS as JSON text. */
    jwks?: pulumi.Input<string>;
    userClaim: string;
    emailClaim: string;
    emailVerifiedClaim: string;
    rolesClaim: string;
    adminRole: string;
    canaryClaim: { name: string; value: string };
}

/** Verification settings from config; the local issuer's public keys when the program is the issuer. */
export function tokenVerification(auth: AuthConfig, local?: { jwks: pulumi.Input<string> }): TokenVerification {
    const shared = {
        audiences: [...auth.audiences],
        userClaim: auth.userClaim,
        emailClaim: auth.emailClaim,
        emailVerifiedClaim: auth.emailVerifiedClaim,
        rolesClaim: auth.rolesClaim,
        adminRole: auth.adminRole,
        canaryClaim: { ...auth.canaryClaim },
    };
    if (auth.localIssuer) {
        if (!local) throw new Error("auth.localIssuer is set but no local issuer was created");
        return { ...shared, issuer: LOCAL_ISSUER, jwks: local.jwks };
    }
    if (!auth.issuer) throw new Error("auth.issuer is missing (the config schema requires it)");
    return { ...shared, issuer: auth.issuer, ...(auth.jwksUri ? { jwksUri: auth.jwksUri } : { jwks: auth.jwks! }) };
}

/** The apps' contract: AUTH_ISSUER, AUTH_AUDIENCES, AUTH_JWKS_URI or AUTH_JWKS, and the claims. */
export function appAuthEnv(v: TokenVerification): Record<string, pulumi.Input<string>> {
    return {
        AUTH_ISSUER: v.issuer,
        AUTH_AUDIENCES: v.audiences.join(","),
        ...(v.jwksUri !== undefined ? { AUTH_JWKS_URI: v.jwksUri } : { AUTH_JWKS: v.jwks! }),
        AUTH_USER_CLAIM: v.userClaim,
        AUTH_EMAIL_CLAIM: v.emailClaim,
        AUTH_EMAIL_VERIFIED_CLAIM: v.emailVerifiedClaim,
        AUTH_ROLES_CLAIM: v.rolesClaim,
        AUTH_ADMIN_ROLE: v.adminRole,
    };
}

const b64url = (data: Buffer) => data.toString("base64url");

/** RFC 7638 thumbprint of a public EC or RSA JWK: a stable key id. */
export function jwkThumbprint(jwk: JsonWebKey): string {
    const members =
        jwk.kty === "EC"
            ? { crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y }
            : jwk.kty === "RSA"
              ? { e: jwk.e, kty: jwk.kty, n: jwk.n }
              : undefined;
    if (!members) throw new Error(`no thumbprint for key type ${String(jwk.kty)}`);
    return b64url(createHash("sha256").update(JSON.stringify(members)).digest());
}

/** The public JWKS (JSON text) of a PEM key, with its thumbprint as `kid`. */
export function publicJwks(publicKeyPem: string, algorithm: string = LOCAL_KEY_ALGORITHM): string {
    const jwk = createPublicKey(publicKeyPem).export({ format: "jwk" });
    return JSON.stringify({ keys: [{ ...jwk, kid: jwkThumbprint(jwk), alg: algorithm, use: "sig" }] });
}
