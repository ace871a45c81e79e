export * from "./appNamespaces";
