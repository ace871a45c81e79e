// The orders-platform policy pack. Run it with
//   pulumi preview --policy-pack policy --policy-pack-config policy/config/<stack>.json
// The policies live in ./policies (importable without starting the analyzer).
import { PolicyPack } from "@pulumi/policy";
import { allPolicies, PACK_ENFORCEMENT_LEVEL } from "./policies";

new PolicyPack("orders-platform", {
    policies: allPolicies,
    enforcementLevel: PACK_ENFORCEMENT_LEVEL,
});
