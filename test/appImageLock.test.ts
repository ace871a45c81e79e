// The app images install from apps/image/package-lock.json (the Docker build context is apps/,
// which cannot see the root lockfile). Both lockfiles must resolve the apps' runtime
// dependencies to the same versions, or the images would run code the tests never saw.
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { PROJECT_ROOT } from "./harness";

type Lock = { packages: Record<string, { version?: string; link?: boolean }> };
const readJson = (file: string) => JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, file), "utf8"));

/** The version `require(name)` finds from `workspaceDir` in a lockfile's tree. */
function resolved(lock: Lock, workspaceDir: string, name: string): string | undefined {
    return (lock.packages[`${workspaceDir}/node_modules/${name}`] ?? lock.packages[`node_modules/${name}`])?.version;
}

describe("app image lockfile", () => {
    const rootLock: Lock = readJson("package-lock.json");
    const imageLock: Lock = readJson("apps/image/package-lock.json");
    const runtimeDeps = Object.keys(readJson("apps/service-kit/package.json").dependencies ?? {});

    it("declares the service kit's runtime dependencies", () => {
        assert.ok(runtimeDeps.includes("pg") && runtimeDeps.includes("prom-client"), runtimeDeps.join(", "));
    });

    for (const name of runtimeDeps) {
        it(`resolves ${name} to the version the tests run`, () => {
            const tested = resolved(rootLock, "apps/service-kit", name);
            const shipped = resolved(imageLock, "service-kit", name);
            assert.ok(tested, `${name} missing from package-lock.json`);
            assert.equal(
                shipped,
                tested,
                `apps/image/package-lock.json has ${name}@${shipped}, the root lockfile ${tested}: regenerate apps/image/package-lock.json`,
            );
        });
    }
});
