// Entry of the real-engine harness project: the real program (../../../index.ts), plus what only a
// kwok cluster needs, as resource transforms registered before the program runs.
import * as pulumi from "@pulumi/pulumi";
import { harnessTransform } from "./transforms";

const variant = process.env.ENGINE_HARNESS_VARIANT;
pulumi.runtime.registerResourceTransform(harnessTransform(variant));
if (variant) pulumi.log.warn(`harness variant ${variant}: the users Deployments are altered to break a policy`);

// Loaded after the transform is registered; its exports are the stack outputs.
module.exports = require("../../../index");
