// Rules the shared app Dockerfile keeps (the PR workflow lints it with hadolint, too).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { appCatalog } from "./harness";
import { PROJECT_ROOT } from "./harness/stackConfig";

const DIGEST = "@sha256:[a-f0-9]{64}";
const dockerfile = path.join(PROJECT_ROOT, "apps", "Dockerfile");
const text = fs.readFileSync(dockerfile, "utf8");
const lines = text.split("\n").filter((l) => !l.trim().startsWith("#"));

describe("the apps' Dockerfile", () => {
    it("is one file for every app: no Dockerfile of its own in any app directory", () => {
        for (const app of appCatalog.values()) assert.ok(!fs.existsSync(path.join(app.dir, "Dockerfile")), app.name);
        assert.match(text, /^ARG APP$/m, "the app is a build argument");
    });

    it("pins the syntax and the Node LTS base image by tag and digest, never latest", () => {
        assert.match(text.split("\n")[0], new RegExp(`^# syntax=docker/dockerfile:\\d+\\.\\d+\\.\\d+${DIGEST}$`));
        const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
        assert.match(base ?? "", new RegExp(`^docker\\.io/library/node:(22|24)\\.\\d+\\.\\d+-[a-z]+-slim${DIGEST}$`), `base image ${base}`);
        const froms = lines.filter((l) => /^FROM /.test(l));
        assert.ok(froms.length >= 2, "multi-stage");
        for (const from of froms) assert.match(from, /^FROM \$\{NODE_IMAGE\} AS [a-z]+$/, "every stage on the pinned base");
    });

    it("runs as a numeric non-root user without a package manager in the runtime stage", () => {
        const runtime = text.slice(text.lastIndexOf("FROM "));
        const user = runtime
            .split("\n")
            .filter((l) => /^USER /.test(l))
            .pop();
        assert.match(user ?? "", /^USER [1-9]\d*(:[1-9]\d*)?$/);
        assert.match(runtime, /rm -rf [^\n]*\/usr\/local\/bin\/npm/, "npm removed from the runtime stage");
    });

    it("has no `cd` in RUN (WORKDIR instead; hadolint DL3003)", () => {
        assert.deepEqual(
            lines.filter((l) => /^RUN\b.*\bcd\s/.test(l)),
            [],
        );
    });
});
