export { LocalIssuer } from "./localIssuer";
export type { LocalIssuerArgs, LocalIssuerClaims, LocalIssuerOutput } from "./localIssuer";
export * from "./authSpec";
