export { NetworkPolicies } from "./networkPolicies";
export type { NetworkPoliciesArgs } from "./networkPolicies";
export * from "./networkPolicySpec";
export * from "./appGraph";
export * from "./externalHosts";
