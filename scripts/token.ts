// Local signing key and tokens for `npm run dev`, the benchmark and the apps' tests: the apps
// verify tokens like in a cluster, against a JWKS that holds this key's public half.
//   npm run token -- --sub alice [--admin] [--ttl 3600]        prints a bearer token for alice
//   npm run token -- --sub a --sub b                           one token per line
//   npm run token -- --env                                     prints the AUTH_* variables (export lines)
//   npm run token -- --stack dev --user alice [--canary]       a token from a deployed stack's own issuer
// The key lives in .data/dev-auth/signing-key.json (gitignored; --key-dir to choose another
// directory) and is created on first use. Never use it outside a developer machine.
import * as fs from "node:fs";
import * as path from "node:path";
import type { JWK } from "jose" with { "resolution-mode": "import" };
import { PulumiCliMissingError, resolvePulumiCli } from "./lib/pulumiCli";
import { parseCommandLine } from "./lib/cliArgs";
import { mintToken as mintStackToken, readStackSigningKey, StackSigningKeyError } from "./lib/stackSigningKey";

export const DEV_ISSUER = "orders-platform-dev";
export const DEV_AUDIENCE = "orders-platform";
export const DEFAULT_KEY_DIR = path.resolve(__dirname, "..", ".data", "dev-auth");
const ALG = "ES256";

export interface LocalKey {
    privateJwk: JWK;
    publicJwks: { keys: JWK[] };
}

// jose is an ES module; dynamic import keeps this file loadable from CommonJS type-checking.
const jose = () => import("jose");

/** A fresh ES256 key pair (kept in memory). */
export async function createKey(): Promise<LocalKey> {
    const { exportJWK, generateKeyPair } = await jose();
    const { privateKey, publicKey } = await generateKeyPair(ALG, { extractable: true });
    const kid = `dev-${Date.now().toString(36)}`;
    const privateJwk = { ...(await exportJWK(privateKey)), kid, alg: ALG, use: "sig" };
    const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: ALG, use: "sig" };
    return { privateJwk, publicJwks: { keys: [publicJwk] } };
}

/** The key in `dir`, created (readable by its owner only) when missing. */
export async function loadOrCreateKey(dir = DEFAULT_KEY_DIR): Promise<LocalKey> {
    const file = path.join(dir, "signing-key.json");
    if (fs.existsSync(file)) return JSON.parse(fs.readFileSync(file, "utf8")) as LocalKey;
    const key = await createKey();
    fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
    fs.writeFileSync(file, JSON.stringify(key, null, 2) + "\n", { mode: 0o600 });
    return key;
}

/** The apps' AUTH_* environment for tokens of this key. */
export function authEnv(key: LocalKey): Record<string, string> {
    return { AUTH_ISSUER: DEV_ISSUER, AUTH_AUDIENCES: DEV_AUDIENCE, AUTH_JWKS: JSON.stringify(key.publicJwks) };
}

export interface TokenOptions {
    sub?: string;
    admin?: boolean;
    /**
     * The user's email address, sent as a verified address (claims `email` and `email_verified`, as
     * OpenID Connect issuers send them): `<sub>@example.com` unless given; null leaves both out.
     */
    email?: string | null;
    /** The `email_verified` claim (default true). */
    emailVerified?: boolean;
    ttlSeconds?: number;
    issuer?: string;
    audience?: string | string[];
    /** Further claims (override the ones above). */
    claims?: Record<string, unknown>;
}

export async function mintToken(key: LocalKey, opts: TokenOptions): Promise<string> {
    const { importJWK, SignJWT } = await jose();
    const now = Math.floor(Date.now() / 1000);
    const email = opts.email === undefined ? defaultEmail(opts.sub) : opts.email;
    const claims: Record<string, unknown> = {
        iss: opts.issuer ?? DEV_ISSUER,
        aud: opts.audience ?? DEV_AUDIENCE,
        iat: now,
        exp: now + (opts.ttlSeconds ?? 3600),
        ...(opts.sub !== undefined ? { sub: opts.sub } : {}),
        ...(opts.admin ? { roles: ["admin"] } : {}),
        ...(email !== null && email !== undefined ? { email, email_verified: opts.emailVerified ?? true } : {}),
        ...opts.claims,
    };
    // A claim set to undefined in `claims` is left out (tests of tokens without it).
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid: String(key.privateJwk.kid), typ: "JWT" })
        .sign(await importJWK(key.privateJwk, ALG));
}

/** The address a local token carries for `sub` when none is given (example.com is reserved for examples). */
export function defaultEmail(sub: string | undefined): string | undefined {
    return sub ? `${sub}@example.com` : undefined;
}

const USAGE = [
    "usage: npm run token -- --sub <user> [--sub <user> ...] [--admin] [--ttl <seconds>] [--key-dir <dir>]   (npm run dev)",
    "       npm run token -- --env                                                                        (AUTH_* for npm run dev)",
    "       npm run token -- --stack <stack> --sub <user> [--admin] [--canary] [--ttl <seconds>]            (a deployed stack that is its own issuer, e.g. dev)",
    "       --user is the same as --sub",
].join("\n");

function usage(): never {
    console.error(USAGE);
    process.exit(2);
}

/** Tokens signed by a deployed stack's own issuer (its key is read from the stack's state). */
async function stackTokens(
    stack: string,
    subs: string[],
    opts: { admin: boolean; canary: boolean; ttlSeconds: number },
): Promise<string[]> {
    const root = path.resolve(__dirname, "..");
    const key = readStackSigningKey(stack, { projectDir: root, cli: resolvePulumiCli(root) });
    return Promise.all(
        subs.map((user) =>
            mintStackToken(key, { user, roles: opts.admin ? ["admin"] : [], canary: opts.canary, expiresInSeconds: opts.ttlSeconds }),
        ),
    );
}

async function main(argv: string[]): Promise<void> {
    let values;
    try {
        ({ values } = parseCommandLine(
            argv,
            {
                sub: { type: "string", multiple: true, default: [] },
                user: { type: "string", multiple: true, default: [] },
                admin: { type: "boolean", default: false },
                canary: { type: "boolean", default: false },
                ttl: { type: "string", default: "3600" },
                "key-dir": { type: "string", default: DEFAULT_KEY_DIR },
                stack: { type: "string" },
                env: { type: "boolean", default: false },
            },
            USAGE,
        ));
    } catch (err) {
        console.error((err as Error).message);
        process.exit(2);
    }
    const subs = [...values.sub, ...values.user];
    const { admin, canary, stack, env: printEnv } = values;
    const ttlSeconds = Number(values.ttl);
    const keyDir = path.resolve(values["key-dir"]);
    if (!printEnv && (subs.length === 0 || !Number.isInteger(ttlSeconds) || ttlSeconds < 1)) usage();
    if (stack !== undefined) {
        if (printEnv) usage();
        for (const token of await stackTokens(stack, subs, { admin, canary, ttlSeconds })) process.stdout.write(token + "\n");
        return;
    }
    if (canary) usage(); // the local key of `npm run dev` has no mesh, hence no canary
    const key = await loadOrCreateKey(keyDir);
    if (printEnv) {
        for (const [k, v] of Object.entries(authEnv(key))) process.stdout.write(`export ${k}='${v}'\n`);
        return;
    }
    for (const sub of subs) process.stdout.write((await mintToken(key, { sub, admin, ttlSeconds })) + "\n");
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: unknown) => {
        const known = err instanceof StackSigningKeyError || err instanceof PulumiCliMissingError;
        process.stderr.write(
            `token: ${known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exitCode = known ? 1 : 3;
    });
}
