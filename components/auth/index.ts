export { LocalIssuer } from "./localIssuer";
export type { LocalIssuerArgs, LocalIssuerOutput } from "./localIssuer";
export * from "./authSpec";
