// `npm run token`'s command line: what each combination means, and errors that say what is allowed.
import { strict as assert } from "node:assert";
import * as path from "node:path";
import { DEFAULT_KEY_DIR, parseTokenArgs, TokenUsageError } from "../scripts/token";

const refused = (argv: string[], message: RegExp) =>
    assert.throws(
        () => parseTokenArgs(argv),
        (err: unknown) => err instanceof TokenUsageError && message.test(err.message),
        `${argv.join(" ")} should be refused with ${message}`,
    );

describe("token command line", () => {
    it("mints local tokens for every --user (and --sub), one hour unless --ttl says otherwise", () => {
        assert.deepEqual(parseTokenArgs(["--user", "alice"]), {
            kind: "local",
            users: ["alice"],
            admin: false,
            ttlSeconds: 3600,
            keyDir: DEFAULT_KEY_DIR,
        });
        assert.deepEqual(parseTokenArgs(["--sub", "bob", "--user", "alice", "--admin", "--ttl", "60", "--key-dir", "k"]), {
            kind: "local",
            users: ["bob", "alice"],
            admin: true,
            ttlSeconds: 60,
            keyDir: path.resolve("k"),
        });
    });

    it("reads a deployed stack's key with --stack, and prints the local key's settings with --env", () => {
        assert.deepEqual(parseTokenArgs(["--stack", "dev", "--user", "alice", "--canary"]), {
            kind: "stack",
            stack: "dev",
            users: ["alice"],
            admin: false,
            canary: true,
            ttlSeconds: 3600,
        });
        assert.deepEqual(parseTokenArgs(["--env"]), { kind: "env", keyDir: DEFAULT_KEY_DIR });
        assert.deepEqual(parseTokenArgs(["--user", "alice", "--help"]), { kind: "help" });
        assert.deepEqual(parseTokenArgs(["-h"]), { kind: "help" });
    });

    it("says what a bad --ttl must be", () => {
        for (const ttl of ["0", "-5", "1.5", "1e3", "soon", ""])
            refused(["--user", "alice", `--ttl=${ttl}`], /^--ttl .*: must be a whole number of seconds, 1 or more \(default 3600/);
    });

    it("says which option is missing or does not combine, with an example", () => {
        refused([], /^which user\? give --user <name>, e.g. --user alice/);
        refused(["--admin"], /^which user\?/);
        refused(["--user", ""], /^--user "": must not be empty/);
        refused(["--user", "alice", "--canary"], /^--canary needs --stack: .*\(e\.g\. --stack dev --user alice --canary\)/);
        refused(["--env", "--stack", "dev"], /^--env prints the AUTH_\* settings of the local key .*leave out --stack or --env/);
        refused(["--env", "--user", "alice"], /^--env prints settings, not tokens/);
        refused(["--stack", "dev", "--user", "alice", "--key-dir", "k"], /^--key-dir is the local key of `npm run dev`/);
        refused(["--user"], /^Option '--user <value>' argument missing$/);
        refused(["alice"], /^unexpected argument "alice"$/);
    });
});
