// The rules of `npm run check:deps` (the registry lookups themselves need the network).
import { strict as assert } from "node:assert";
import { lockedPackages, packageProblems } from "../scripts/check-deps";

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

    it("orders versions by SemVer precedence: pre-releases by their identifiers, before their release", () => {
        // A pre-release line tagged latest: rc.10 comes after rc.2 (numeric identifiers), so it is newer.
        const rc = { "dist-tags": { latest: "4.0.0-rc.2" } };
        assert.match(
            packageProblems({ name: "@pulumi/kubernetes", version: "4.0.0-rc.10", lockfile: lock }, rc)[0],
            /^@pulumi\/kubernetes@4\.0\.0-rc\.10 \(package-lock\.json\) is newer than latest 4\.0\.0-rc\.2/,
        );
        assert.deepEqual(packageProblems({ name: "@pulumi/kubernetes", version: "4.0.0-rc.1", lockfile: lock }, rc), []);
        // The release after a pre-release tagged latest is newer than it.
        assert.match(packageProblems({ name: "@pulumi/kubernetes", version: "4.0.0", lockfile: lock }, rc)[0], /newer than latest/);
        // A pre-release of the latest release comes before it.
        const release = { "dist-tags": { latest: "3.276.0" } };
        assert.deepEqual(packageProblems({ name: "@pulumi/pulumi", version: "3.276.0-alpha.1", lockfile: lock }, release), []);
        assert.match(
            packageProblems({ name: "@pulumi/pulumi", version: "3.277.0-alpha.1", lockfile: lock }, release)[0],
            /newer than latest 3\.276\.0/,
        );
    });

    it("says so when a version is not SemVer instead of comparing it", () => {
        assert.deepEqual(
            packageProblems({ name: "@pulumi/pulumi", version: "3.248", lockfile: lock }, { "dist-tags": { latest: "3.276.0" } }),
            ['@pulumi/pulumi@3.248 (package-lock.json): "3.248" is not a SemVer version'],
        );
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
    });
});
