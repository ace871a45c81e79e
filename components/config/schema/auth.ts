// `auth`: how the edge and the apps verify tokens (the stack's issuer, or a local one in dev).
import { z } from "zod";
import { bool, pattern } from "./common";

/** A JWT claim name as Istio and the apps address it (no dots: nested claims are not supported). */
const CLAIM = /^[A-Za-z_][A-Za-z0-9_-]*$/;
const claim = () => pattern(CLAIM, 'a JWT claim name like "sub" or "roles"');
/** Members of a JWK that only a private key has: an inline JWKS must never carry them. */
const PRIVATE_JWK_MEMBERS = ["d", "p", "q", "dp", "dq", "qi", "k", "oth"];

/** Problem with an inline JWKS (JSON text), or undefined when it is a usable public key set. */
export function jwksProblem(text: string): string | undefined {
    let parsed: unknown;
    try {
        parsed = JSON.parse(text);
    } catch {
        return 'must be a JSON Web Key Set like {"keys":[{"kty":"EC",...}]}';
    }
    const keys = (parsed as { keys?: unknown })?.keys;
    if (!Array.isArray(keys) || keys.length === 0) return 'must be a JSON Web Key Set with a non-empty "keys" array';
    for (const [i, key] of keys.entries()) {
        if (typeof key !== "object" || key === null || typeof (key as { kty?: unknown }).kty !== "string") {
            return `keys[${i}] must be a JSON Web Key with a "kty"`;
        }
        const secret = PRIVATE_JWK_MEMBERS.filter((m) => m in key);
        if (secret.length > 0) return `keys[${i}] holds private key material (${secret.join(", ")}); give only the public keys`;
    }
    return undefined;
}

export const authSchema = z
    .strictObject({
        /**
         * The program creates a signing key and is the issuer itself (dev): no identity provider
         * needed; `npm run token` mints tokens from the key in the stack's state.
         */
        localIssuer: bool().default(false),
        /** `iss` of accepted tokens, e.g. "https://auth.example.com/". */
        issuer: pattern(/^https:\/\/[^\s/]+(\/\S*)?$/, 'an https issuer URL like "https://auth.example.com/"').optional(),
        /** Where the issuer publishes its signing keys (JWKS). Exactly one of jwksUri and jwks. */
        jwksUri: pattern(/^https:\/\/[^\s/]+\/\S*$/, 'an https URL like "https://auth.example.com/.well-known/jwks.json"').optional(),
        /** The public keys inline, as JWKS JSON (for issuers the cluster cannot reach). */
        jwks: z
            .string({ error: "must be a JSON Web Key Set (JSON text)" })
            .superRefine((text, ctx) => {
                const problem = jwksProblem(text);
                if (problem) ctx.addIssue({ code: "custom", message: problem });
            })
            .optional(),
        /** `aud` values accepted (a token needs one of them). */
        audiences: z
            .array(pattern(/^\S+$/, "a non-empty audience without spaces"), { error: "must be a list of audiences" })
            .min(1, { error: "must name at least one audience" })
            .default(["orders-api"]),
        /** Claim that names the user (the apps authorize per user by it). */
        userClaim: claim().default("sub"),
        /** Claim listing the caller's roles. */
        rolesClaim: claim().default("roles"),
        /** Role (in rolesClaim) that may act for every user. */
        adminRole: pattern(/^\S+$/, "a role name without spaces").default("admin"),
        /** Callers whose token has this claim value may force the canary with the canary header. */
        canaryClaim: z
            .strictObject({
                name: claim().default("roles"),
                value: pattern(/^[^\s"]+$/, "a claim value without spaces or quotes").default("canary-tester"),
            })
            .prefault({}),
    })
    .superRefine((a, ctx) => {
        const issue = (key: "issuer" | "jwksUri" | "jwks", message: string) =>
            ctx.addIssue({ code: "custom", path: [key], input: a[key], message });
        if (a.localIssuer) {
            for (const key of ["issuer", "jwksUri", "jwks"] as const) {
                if (a[key] !== undefined) {
                    issue(
                        key,
                        "must not be set when localIssuer is true (the program is the issuer); set localIssuer: false to use your own issuer",
                    );
                }
            }
            return;
        }
        if (a.issuer === undefined) issue("issuer", "is required unless localIssuer is true");
        if ((a.jwksUri === undefined) === (a.jwks === undefined)) {
            issue("jwksUri", "exactly one of jwksUri and jwks is required unless localIssuer is true");
        }
    });
export type AuthConfig = z.infer<typeof authSchema>;
