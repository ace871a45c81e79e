// Command pulumi-resource-kubernetes serves the Pulumi Kubernetes provider
// (github.com/pulumi/pulumi-kubernetes/provider/v4) as a plugin.
//
// Our own entry point: upstream's embeds files generated at release time. build.sh creates
// schema-embed.json (schema.json with its "version" set) and terraform-mapping-embed.json
// next to this file in a staging copy before `go build`.
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema-embed.json
var schema []byte

//go:embed terraform-mapping-embed.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, schema, terraformMapping)
}
