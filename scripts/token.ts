// Local signing key and tokens for `npm run dev`, the benchmark and the apps' tests: the apps
// verify tokens like in a cluster, against a JWKS that holds this key's public half.
//   npm run -s token -- --user alice [--admin] [--ttl 3600]     prints a bearer token for alice
//   npm run -s token -- --user alice --user bob                 one token per line
//   npm run -s token -- --env                                   prints the AUTH_* variables (export lines)
//   npm run -s token -- --stack dev --user alice [--canary]     a token from a deployed stack's own issuer
// The key lives in .data/dev-auth/signing-key.json (gitignored; --key-dir to choose another
// directory) and is created on first use. Never use it outside a developer machine.
import * as fs from "node:fs";
import * as path from "node:path";
import type { JWK } from "jose" with { "resolution-mode": "import" };
import { PulumiCliMissingError, resolvePulumiCli } from "./lib/pulumiCli";
import { parseCommandLine, wantsHelp } from "./lib/cliArgs";
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
    ttlSeconds?: number;
    issuer?: string;
    audience?: string | string[];
    /** Further claims (override the ones above). */
    claims?: Record<string, unknown>;
}

export async function mintToken(key: LocalKey, opts: TokenOptions): Promise<string> {
    const { importJWK, SignJWT } = await jose();
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
        iss: opts.issuer ?? DEV_ISSUER,
        aud: opts.audience ?? DEV_AUDIENCE,
        iat: now,
        exp: now + (opts.ttlSeconds ?? 3600),
        ...(opts.sub !== undefined ? { sub: opts.sub } : {}),
        ...(opts.admin ? { roles: ["admin"] } : {}),
        ...opts.claims,
    };
    // A claim set to undefined in `claims` is left out (tests of tokens without it).
    for (const [name, value] of Object.entries(claims)) if (value === undefined) delete claims[name];
    return new SignJWT(claims)
        .setProtectedHeader({ alg: ALG, kid: String(key.privateJwk.kid), typ: "JWT" })
        .sign(await importJWK(key.privateJwk, ALG));
}

const DEFAULT_TTL_SECONDS = 3600;
const HELP_HINT = "(npm run token -- --help lists the options)";

export const USAGE = `usage: npm run -s token -- --user <name> [--user <name> ...] [--admin] [--ttl <seconds>] [--key-dir <dir>]
       npm run -s token -- --env [--key-dir <dir>]
       npm run -s token -- --stack <stack> --user <name> [--admin] [--canary] [--ttl <seconds>]

Prints bearer tokens the apps accept, one per line. Without --stack they are signed by the local
key of \`npm run dev\` (.data/dev-auth/signing-key.json, created on first use, never committed; for a
developer machine only). With --stack they are signed by the key of a deployed stack that is its
own issuer (dev), read from the stack's state with the Pulumi CLI (same backend login as
\`npm run up\`: PULUMI_BACKEND_URL, PULUMI_CONFIG_PASSPHRASE).

options:
  --user <name>      subject of the token; repeat it for one token per user (--sub is the same)
  --admin            adds the admin role
  --ttl <seconds>    lifetime, a whole number of seconds from 1 (default ${DEFAULT_TTL_SECONDS})
  --key-dir <dir>    directory of the local key (default .data/dev-auth)
  --env              prints the apps' AUTH_* settings for the local key as export lines
  --stack <name>     a deployed stack's own issuer instead of the local key
  --canary           (with --stack) lets the token force the canary with the canary header
  -h, --help         this text

example (npm run dev running):
  TOKEN=$(npm run -s token -- --user alice)
  curl -s localhost:8082/api/orders -H "authorization: Bearer $TOKEN"

exit codes: 0 printed, 1 the stack's key could not be read, 2 invalid usage, 3 an unexpected error`;

export class TokenUsageError extends Error {
    override name = "TokenUsageError";
}

export type TokenCommand =
    | { kind: "help" }
    | { kind: "env"; keyDir: string }
    | { kind: "local"; users: string[]; admin: boolean; ttlSeconds: number; keyDir: string }
    | { kind: "stack"; stack: string; users: string[]; admin: boolean; canary: boolean; ttlSeconds: number };

/** The command line as a command; a TokenUsageError says what is wrong and what is allowed. */
export function parseTokenArgs(argv: string[]): TokenCommand {
    if (wantsHelp(argv)) return { kind: "help" };
    let values;
    try {
        ({ values } = parseCommandLine(
            argv,
            {
                sub: { type: "string", multiple: true, default: [] },
                user: { type: "string", multiple: true, default: [] },
                admin: { type: "boolean", default: false },
                canary: { type: "boolean", default: false },
                ttl: { type: "string" },
                "key-dir": { type: "string", default: DEFAULT_KEY_DIR },
                stack: { type: "string" },
                env: { type: "boolean", default: false },
            },
            "",
        ));
    } catch (err) {
        throw new TokenUsageError((err as Error).message.trim(), { cause: err });
    }
    const users = [...values.sub, ...values.user];
    const { admin, canary, stack, env } = values;
    const keyDir = path.resolve(values["key-dir"]);
    const empty = users.find((u) => u.trim() === "");
    if (empty !== undefined) throw new TokenUsageError(`--user "${empty}": must not be empty, e.g. --user alice`);
    let ttlSeconds = DEFAULT_TTL_SECONDS;
    if (values.ttl !== undefined) {
        ttlSeconds = /^\d+$/.test(values.ttl.trim()) ? Number(values.ttl) : NaN;
        if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1)
            throw new TokenUsageError(
                `--ttl ${values.ttl}: must be a whole number of seconds, 1 or more (default ${DEFAULT_TTL_SECONDS}, e.g. --ttl 900)`,
            );
    }
    if (env) {
        if (stack !== undefined)
            throw new TokenUsageError(
                "--env prints the AUTH_* settings of the local key of `npm run dev`; a deployed stack configures its apps itself: leave out --stack or --env",
            );
        if (users.length > 0 || admin || canary || values.ttl !== undefined)
            throw new TokenUsageError("--env prints settings, not tokens: leave out --user, --admin, --canary and --ttl");
        return { kind: "env", keyDir };
    }
    if (users.length === 0)
        throw new TokenUsageError("which user? give --user <name>, e.g. --user alice (or --env for the apps' AUTH_* settings)");
    if (stack !== undefined) {
        if (values["key-dir"] !== DEFAULT_KEY_DIR)
            throw new TokenUsageError("--key-dir is the local key of `npm run dev`; with --stack the key comes from the stack's state");
        return { kind: "stack", stack, users, admin, canary, ttlSeconds };
    }
    if (canary)
        throw new TokenUsageError(
            "--canary needs --stack: only a deployed stack has a mesh that routes to the canary (e.g. --stack dev --user alice --canary)",
        );
    return { kind: "local", users, admin, ttlSeconds, keyDir };
}

/** Tokens signed by a deployed stack's own issuer (its key is read from the stack's state). */
async function stackTokens(
    stack: string,
    users: string[],
    opts: { admin: boolean; canary: boolean; ttlSeconds: number },
): Promise<string[]> {
    const root = path.resolve(__dirname, "..");
    const key = readStackSigningKey(stack, { projectDir: root, cli: resolvePulumiCli(root) });
    return Promise.all(
        users.map((user) =>
            mintStackToken(key, { user, roles: opts.admin ? ["admin"] : [], canary: opts.canary, expiresInSeconds: opts.ttlSeconds }),
        ),
    );
}

async function main(argv: string[]): Promise<void> {
    const command = parseTokenArgs(argv);
    switch (command.kind) {
        case "help":
            process.stdout.write(`${USAGE}\n`);
            return;
        case "env":
            for (const [k, v] of Object.entries(authEnv(await loadOrCreateKey(command.keyDir))))
                process.stdout.write(`export ${k}='${v}'\n`);
            return;
        case "stack":
            for (const token of await stackTokens(command.stack, command.users, command)) process.stdout.write(token + "\n");
            return;
        case "local": {
            const key = await loadOrCreateKey(command.keyDir);
            for (const sub of command.users)
                process.stdout.write((await mintToken(key, { sub, admin: command.admin, ttlSeconds: command.ttlSeconds })) + "\n");
        }
    }
}

if (require.main === module) {
    main(process.argv.slice(2)).catch((err: unknown) => {
        if (err instanceof TokenUsageError) {
            process.stderr.write(`token: ${err.message}\n${HELP_HINT}\n`);
            process.exitCode = 2;
            return;
        }
        const known = err instanceof StackSigningKeyError || err instanceof PulumiCliMissingError;
        process.stderr.write(
            `token: ${known ? (err as Error).message : err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
        );
        process.exitCode = known ? 1 : 3;
    });
}
