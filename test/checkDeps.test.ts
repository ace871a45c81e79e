// The rules of `npm run check:deps` (the registry lookups themselves need the network).
import { strict as assert } from "node:assert";
import { compareVersions, lockedPackages, packageProblems } from "../scripts/check-deps";

const lock = "package-lock.json";

describe("check:deps rules", () => {
    it("refuses the stray @pulumi/command 4.5.0 against a 1.x latest line", () => {
        const [problem] = packageProblems(
            { name: "@pulumi/command", version: "4.5.0", lockfile: lock },
            { "dist-tags": { latest: "1.2.1" } },
        );
        assert.match(problem, /^@pulumi\/command@4\.5\.0 \(package-lock\.json\) is on another major line than latest 1\.2\.1/);
    });

    it("refuses a @pulumi package newer than latest, accepts older or equal ones", () => {
        const doc = { "dist-tags": { latest: "3.276.0" } };
        assert.match(
            packageProblems({ name: "@pulumi/pulumi", version: "3.277.0", lockfile: lock }, doc)[0],
            /newer than latest 3\.276\.0/,
        );
        assert.deepEqual(packageProblems({ name: "@pulumi/pulumi", version: "3.248.0", lockfile: lock }, doc), []);
        assert.deepEqual(packageProblems({ name: "@pulumi/pulumi", version: "3.276.0", lockfile: lock }, doc), []);
        // Other packages may legitimately lock a pre-release or a newer line.
        assert.deepEqual(packageProblems({ name: "left-pad", version: "9.0.0", lockfile: lock }, doc), []);
    });

    it("refuses a deprecated locked version, whatever the package", () => {
        const doc = { "dist-tags": { latest: "2.0.0" }, versions: { "1.0.0": { deprecated: "use 2.x" }, "2.0.0": {} } };
        assert.deepEqual(packageProblems({ name: "glob", version: "1.0.0", lockfile: lock }, doc), [
            "glob@1.0.0 (package-lock.json) is deprecated: use 2.x",
        ]);
        assert.deepEqual(packageProblems({ name: "glob", version: "2.0.0", lockfile: lock }, doc), []);
    });

    it("reads registry packages from a lockfile, skipping workspace links and the root", () => {
        const pkgs = lockedPackages(lock, {
            packages: {
                "": { version: "0.1.0" },
                "node_modules/@pulumi/pulumi": {
                    version: "3.248.0",
                    resolved: "https://registry.npmjs.org/@pulumi/pulumi/-/pulumi-3.248.0.tgz",
                },
                "node_modules/a/node_modules/b": { version: "1.0.0", resolved: "https://registry.npmjs.org/b/-/b-1.0.0.tgz" },
                "node_modules/users": { link: true, resolved: "apps/users" },
                "apps/users": { version: "1.1.0" },
            },
        });
        assert.deepEqual(
            pkgs.map((p) => `${p.name}@${p.version}`),
            ["@pulumi/pulumi@3.248.0", "b@1.0.0"],
        );
        assert.equal(compareVersions("v1.10.0", "1.9.9"), 1);
        assert.equal(compareVersions("1.2.3-rc.1", "1.2.3"), 0);
    });
});
