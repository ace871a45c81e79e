export * from "./schema";
export * from "./appCatalog";
export * from "./load";
export { ConfigError, CONFIG_NAMESPACE } from "./errors";
