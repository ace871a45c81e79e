// Verifies the bearer JWT the edge already validated (issuer, audience, signature from the JWKS,
// asymmetric algorithms only) and names the caller: the user claim and whether they are an admin.
// Verified tokens are cached until they expire (at most a minute), so a client that reuses its
// token pays for one signature check, not one per request.
import * as http from "node:http";
import * as https from "node:https";
import { createLocalJWKSet, createRemoteJWKSet, customFetch, errors, JWTPayload, jwtVerify, JWTVerifyGetKey } from "jose";
import type { onRequestHookHandler } from "fastify";
import { BoundedMap } from "./boundedMap";
import type { AuthConfig } from "./config";
import { DependencyError, UnauthorizedError } from "./errors";

export interface Principal {
    /** The value of the user claim: owner of profiles and orders. */
    subject: string;
    admin: boolean;
    /** The email address the issuer verified (email claim, with the verified claim true); absent otherwise. */
    email?: string;
}

/** Signature algorithms accepted: asymmetric only, so a leaked verification key cannot mint tokens. */
export const ALGORITHMS = ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA", "Ed25519"];
const CLOCK_TOLERANCE_SECONDS = 5;
const MAX_CACHE_MS = 60_000;
const SUBJECT = /^[^\p{Cc}\p{Cs}]{1,255}$/u;
/** An address as issuers send it: one @, no spaces or control characters, a dot in the domain. */
export const EMAIL = /^[^\s@\p{C}]+@[^\s@\p{C}]+\.[^\s@\p{C}]+$/u;
export const EMAIL_MAX_LENGTH = 254;

interface CacheEntry {
    principal: Principal;
    until: number;
}

export interface VerifierOptions {
    cacheSize?: number;
    now?: () => number;
}

export class TokenVerifier {
    private readonly keys: JWTVerifyGetKey;
    private readonly cache: BoundedMap<string, CacheEntry>;
    private readonly now: () => number;

    constructor(
        private readonly config: AuthConfig,
        opts: VerifierOptions = {},
    ) {
        this.keys = config.jwksUri
            ? createRemoteJWKSet(new URL(config.jwksUri), {
                  timeoutDuration: 2_000,
                  cooldownDuration: 30_000,
                  cacheMaxAge: 10 * 60_000,
                  [customFetch]: fetchOverNodeHttp,
              })
            : createLocalJWKSet(config.jwks as Parameters<typeof createLocalJWKSet>[0]);
        this.cache = new BoundedMap(opts.cacheSize ?? 10_000);
        this.now = opts.now ?? Date.now;
    }

    /** The token of an `Authorization: Bearer <jwt>` header, or a 401. */
    static bearerToken(header: string | undefined): string {
        if (header === undefined || header === "") throw new UnauthorizedError("a bearer token is required", false);
        const space = header.indexOf(" ");
        if (space < 0 || header.slice(0, space).toLowerCase() !== "bearer") {
            throw new UnauthorizedError("the Authorization header must be 'Bearer <token>'", true);
        }
        return header.slice(space + 1).trim();
    }

    /** The caller of an already verified token, without waiting (the hot path). */
    cached(token: string): Principal | undefined {
        const hit = this.cache.get(token);
        if (hit === undefined) return undefined;
        if (hit.until > this.now()) return hit.principal;
        this.cache.delete(token);
        return undefined;
    }

    async verify(token: string): Promise<Principal> {
        const hit = this.cached(token);
        if (hit) return hit;
        let payload: JWTPayload;
        try {
            ({ payload } = await jwtVerify(token, this.keys, {
                issuer: this.config.issuer,
                audience: this.config.audiences,
                algorithms: ALGORITHMS,
                clockTolerance: CLOCK_TOLERANCE_SECONDS,
                requiredClaims: ["exp"],
            }));
        } catch (err) {
            throw verificationError(err);
        }
        const principal = this.principalOf(payload);
        this.cache.set(token, { principal, until: Math.min(payload.exp! * 1000, this.now() + MAX_CACHE_MS) });
        return principal;
    }

    private principalOf(payload: JWTPayload): Principal {
        const subject = payload[this.config.userClaim];
        if (typeof subject !== "string" || !SUBJECT.test(subject)) {
            throw new UnauthorizedError(`the token has no usable "${this.config.userClaim}" claim`, true);
        }
        const roles = payload[this.config.rolesClaim];
        const list = Array.isArray(roles) ? roles : typeof roles === "string" ? roles.split(/\s+/) : [];
        const principal: Principal = { subject, admin: list.includes(this.config.adminRole) };
        const email = this.verifiedEmail(payload);
        if (email !== undefined) principal.email = email;
        return principal;
    }

    /** The email claim when the issuer says it verified it (true, or "true" as some issuers send it). */
    private verifiedEmail(payload: JWTPayload): string | undefined {
        const verified = payload[this.config.emailVerifiedClaim];
        if (verified !== true && verified !== "true") return undefined;
        const email = payload[this.config.emailClaim];
        if (typeof email !== "string") return undefined;
        const trimmed = email.trim();
        return trimmed.length <= EMAIL_MAX_LENGTH && EMAIL.test(trimmed) ? trimmed : undefined;
    }
}

/** onRequest hook of the API routes: sets `request.principal`, or answers 401 (503 without keys). */
export function authenticate(verifier: TokenVerifier): onRequestHookHandler {
    return (request, _reply, done) => {
        let token: string;
        try {
            token = TokenVerifier.bearerToken(request.headers.authorization);
        } catch (err) {
            return done(err as Error);
        }
        // Callback style: a cached token costs no promise.
        const hit = verifier.cached(token);
        if (hit !== undefined) {
            request.principal = hit;
            return done();
        }
        verifier.verify(token).then((p) => {
            request.principal = p;
            done();
        }, done);
    };
}

/** jose codes of a JWKS that could not be fetched (ERR_JOSE_GENERIC: a non-200 or non-JSON answer). */
const JWKS_UNAVAILABLE = new Set(["ERR_JWKS_TIMEOUT", "ERR_JWKS_INVALID", "ERR_JOSE_GENERIC"]);

/** A bad token is the caller's problem (401); signing keys that cannot be fetched are ours (503). */
function verificationError(err: unknown): Error {
    if (!(err instanceof errors.JOSEError) || JWKS_UNAVAILABLE.has(err.code)) {
        return new DependencyError("jwks", "the token signing keys cannot be fetched", err);
    }
    return new UnauthorizedError(err instanceof errors.JWTExpired ? "the token has expired" : `invalid token: ${err.message}`, true);
}

/**
 * jose's JWKS fetch over node:http(s): the global fetch would load a second HTTP stack (~18 MB of
 * memory) for one request every few minutes.
 */
function fetchOverNodeHttp(url: string, init: { headers: Headers; signal: AbortSignal }): Promise<Response> {
    const transport = url.startsWith("https:") ? https : http;
    return new Promise((resolve, reject) => {
        const req = transport.get(url, { headers: Object.fromEntries(init.headers), signal: init.signal }, (res) => {
            const chunks: Buffer[] = [];
            res.on("data", (c: Buffer) => chunks.push(c));
            res.on("error", reject);
            res.on("end", () => {
                const text = Buffer.concat(chunks).toString("utf8");
                resolve({ status: res.statusCode ?? 0, json: async () => JSON.parse(text) } as Response);
            });
        });
        req.on("error", (err) => reject(err.name === "AbortError" ? Object.assign(new Error("timeout"), { name: "TimeoutError" }) : err));
    });
}
