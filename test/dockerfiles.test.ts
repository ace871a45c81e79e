// Rules every app Dockerfile keeps (the PR workflow lints them with hadolint, too).
import { strict as assert } from "node:assert";
import * as fs from "node:fs";
import * as path from "node:path";
import { appCatalog } from "./harness";

describe("app Dockerfiles", () => {
    for (const app of appCatalog.values()) {
        const text = fs.readFileSync(path.join(app.dir, "Dockerfile"), "utf8");
        const lines = text.split("\n").filter((l) => !l.trim().startsWith("#"));

        it(`${app.name}: pinned Node LTS base image, never latest`, () => {
            const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
            assert.match(base ?? "", /^node:(22|24)\.\d+\.\d+-[a-z]+(-slim)?(@sha256:[a-f0-9]{64})?$/, `base image ${base}`);
            for (const from of lines.filter((l) => /^FROM /.test(l))) assert.doesNotMatch(from, /:latest\b/);
        });

        it(`${app.name}: runs as a numeric non-root user and exposes the app's port`, () => {
            const user = lines.filter((l) => /^USER /.test(l)).pop();
            assert.match(user ?? "", /^USER [1-9]\d*(:[1-9]\d*)?$/);
            assert.ok(lines.includes(`EXPOSE ${app.port}`), `EXPOSE ${app.port}`);
        });

        it(`${app.name}: no \`cd\` in RUN (WORKDIR instead; hadolint DL3003)`, () => {
            assert.deepEqual(
                lines.filter((l) => /^RUN\b.*\bcd\s/.test(l)),
                [],
            );
        });
    }
});
