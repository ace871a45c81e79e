// Tokens for a stack whose program is its own issuer (dev: `auth.localIssuer`). The signing key
// lives only in the stack's state (the secret stack output `devAuth`); this reads it with the
// Pulumi CLI for the person running `npm run token` and signs a token in memory. Nothing is
// written to disk, and stacks with a real identity provider have no such output.
import { spawnSync } from "node:child_process";
import { createPrivateKey } from "node:crypto";
import type { PulumiCli } from "./pulumiCli";

/** The stack output the program exports for its local issuer. */
export const SIGNING_OUTPUT = "devAuth";

export interface StackSigningKey {
    issuer: string;
    audience: string;
    algorithm: string;
    keyId: string;
    /** Claim names the edge and the apps read. */
    claims: { user: string; email: string; emailVerified: string; roles: string; canary: { name: string; value: string } };
    privateKeyPem: string;
}

export class StackSigningKeyError extends Error {
    override name = "StackSigningKeyError";
}

/** Runs the CLI; the default spawns it (tests pass a fake). */
export type CliRunner = (bin: string, args: string[], cwd: string) => { status: number | null; stdout: string; stderr: string };

const spawnCli: CliRunner = (bin, args, cwd) => {
    const r = spawnSync(bin, args, { cwd, encoding: "utf8", timeout: 120_000 });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? r.error?.message ?? "" };
};

const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;

/** Checks the shape of the `devAuth` output; errors say which field is missing. */
export function parseSigningOutput(value: unknown, stack: string): StackSigningKey {
    const o = (value ?? {}) as Record<string, any>;
    const missing = ["issuer", "audience", "algorithm", "keyId", "privateKeyPem"].filter((k) => !isString(o[k]));
    const claims = o.claims ?? {};
    if (!isString(claims.user) || !isString(claims.roles) || !isString(claims.canary?.name) || !isString(claims.canary?.value)) {
        missing.push("claims");
    }
    if (missing.length > 0) {
        throw new StackSigningKeyError(
            `stack "${stack}": output ${SIGNING_OUTPUT} lacks ${missing.join(", ")}; run \`pulumi up\` with the current program`,
        );
    }
    return {
        issuer: o.issuer,
        audience: o.audience,
        algorithm: o.algorithm,
        keyId: o.keyId,
        claims: {
            user: claims.user,
            // Stacks deployed before the email claims existed: the OpenID Connect names the apps default to.
            email: isString(claims.email) ? claims.email : "email",
            emailVerified: isString(claims.emailVerified) ? claims.emailVerified : "email_verified",
            roles: claims.roles,
            canary: { name: claims.canary.name, value: claims.canary.value },
        },
        privateKeyPem: o.privateKeyPem,
    };
}

export interface ReadOptions {
    /** Directory of Pulumi.yaml (the CLI runs there). */
    projectDir: string;
    cli: PulumiCli;
    run?: CliRunner;
}

/** The stack's signing key from `pulumi stack output devAuth --show-secrets`. */
export function readStackSigningKey(stack: string, options: ReadOptions): StackSigningKey {
    const run = options.run ?? spawnCli;
    const args = ["stack", "output", SIGNING_OUTPUT, "--json", "--show-secrets", "--stack", stack];
    const r = run(options.cli.bin, args, options.projectDir);
    if (r.status !== 0) {
        const why = `${r.stderr}${r.stdout}`.trim().split("\n").slice(-3).join(" ") || `exit ${r.status}`;
        throw new StackSigningKeyError(
            `cannot read the signing key of stack "${stack}" (pulumi ${args.join(" ")}): ${why}; ` +
                "is the stack deployed and are you logged in to its backend (PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE)?",
        );
    }
    let value: unknown;
    try {
        value = JSON.parse(r.stdout);
    } catch {
        throw new StackSigningKeyError(`stack "${stack}": pulumi printed no JSON for output ${SIGNING_OUTPUT}`);
    }
    if (value === null || value === undefined || value === "") {
        throw new StackSigningKeyError(
            `stack "${stack}" has no ${SIGNING_OUTPUT} output: it is not its own issuer (auth.localIssuer) — get tokens from its identity provider`,
        );
    }
    return parseSigningOutput(value, stack);
}

export interface TokenRequest {
    /** Value of the user claim (and `sub`). */
    user: string;
    /** The verified email address the token carries; default `<user>@example.com`. */
    email?: string;
    roles?: string[];
    /** Entitle the caller to force the canary with the canary header. */
    canary?: boolean;
    /** Lifetime; default one hour. */
    expiresInSeconds?: number;
    now?: Date;
}

/** A signed JWT for `user` that the stack's edge and apps accept. */
export async function mintToken(key: StackSigningKey, request: TokenRequest): Promise<string> {
    const roles = [...(request.roles ?? [])];
    // The user claim last: where it is the email claim too, it names the user.
    const claims: Record<string, unknown> = {
        [key.claims.email]: request.email ?? `${request.user}@example.com`,
        [key.claims.emailVerified]: true,
        [key.claims.user]: request.user,
    };
    if (request.canary) {
        if (key.claims.canary.name === key.claims.roles) roles.push(key.claims.canary.value);
        else claims[key.claims.canary.name] = key.claims.canary.value;
    }
    if (roles.length > 0) claims[key.claims.roles] = [...new Set(roles)];
    const now = Math.floor((request.now ?? new Date()).getTime() / 1000);
    // jose is ESM-only; the scripts are CommonJS.
    const { SignJWT } = await import("jose");
    return new SignJWT(claims)
        .setProtectedHeader({ alg: key.algorithm, kid: key.keyId, typ: "JWT" })
        .setIssuer(key.issuer)
        .setAudience(key.audience)
        .setSubject(request.user)
        .setIssuedAt(now)
        .setExpirationTime(now + (request.expiresInSeconds ?? 3600))
        .sign(createPrivateKey(key.privateKeyPem));
}
