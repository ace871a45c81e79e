// Mock outputs for providers used across the program.
import { fakeDigest, mockCall, mockResourceOutputs } from "../mockRegistry";

mockResourceOutputs("random:index/randomPassword:RandomPassword", (name, inputs) => ({
    result: `mock-pw-${name}`.padEnd(inputs.length ?? 24, "x").slice(0, inputs.length ?? 24),
}));

mockResourceOutputs("docker:index/image:Image", (_name, inputs) => {
    const imageName = String(inputs.imageName ?? "");
    const repo = imageName.replace(/:[^:/]+$/, "");
    return { imageName, repoDigest: `${repo}@${fakeDigest(imageName)}` };
});

mockCall("docker:index/getRegistryImage:getRegistryImage", (inputs) => ({
    name: inputs.name,
    sha256Digest: fakeDigest(String(inputs.name)),
}));
