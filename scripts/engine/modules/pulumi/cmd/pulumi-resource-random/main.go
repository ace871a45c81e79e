// Command pulumi-resource-random is a STAND-IN for the Pulumi random provider, written for
// orders-platform's engine harness. It is not pulumi-random.
//
// Why: github.com/pulumi/pulumi-random/provider/v4 is refused by the Go module proxy reachable
// here (403 for every version), and the Terraform provider it bridges keeps its logic in an
// internal package that cannot be imported from outside. This plugin implements, with the
// same type tokens and properties as @pulumi/random 4.x:
//
//   - random:index/randomPassword:RandomPassword (result and bcryptHash are secrets)
//   - random:index/randomString:RandomString
//
// with random_password/random_string semantics: defaults special/upper/lower/numeric = true,
// the min* counts are honoured, every input (keepers too) forces a replacement, id "none" for
// passwords and the result for strings, refresh keeps the state. Other random resources fail
// with a clear error. It reports version <@pulumi/random version of the lockfile>+orders.standin
// (semver build metadata: the engine accepts it for the requested version, `pulumi plugin ls`
// and `pulumi about` show that it is the stand-in).
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"math/big"
	"sort"
	"time"

	"golang.org/x/crypto/bcrypt"
	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Version is set by the build (-X main.Version=...).
var Version = "0.0.0+orders.standin"

const (
	passwordType = "random:index/randomPassword:RandomPassword"
	stringType   = "random:index/randomString:RandomString"
	// Terraform's random provider default for special characters.
	defaultSpecial = "!@#$%&*()-_=+[]{}<>:?"
)

var inputKeys = []string{"keepers", "length", "lower", "minLower", "minNumeric", "minSpecial", "minUpper",
	"number", "numeric", "overrideSpecial", "special", "upper"}

func main() {
	flag.Parse()
	if args := flag.Args(); len(args) > 0 {
		ctx, cancel := context.WithCancel(context.Background())
		if err := rpcutil.Healthcheck(ctx, args[0], 5*time.Minute, cancel); err != nil {
			cmdutil.Exit(err)
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterResourceProviderServer(srv, &provider{})
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(err)
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(err)
	}
}

type provider struct {
	pulumirpc.UnimplementedResourceProviderServer
}

var opts = plugin.MarshalOptions{KeepUnknowns: true, KeepSecrets: true, SkipNulls: true}

func unmarshal(s *structpb.Struct) (resource.PropertyMap, error) {
	if s == nil {
		return resource.PropertyMap{}, nil
	}
	return plugin.UnmarshalProperties(s, opts)
}

func marshal(m resource.PropertyMap) (*structpb.Struct, error) { return plugin.MarshalProperties(m, opts) }

func checkType(t string) error {
	if t != passwordType && t != stringType {
		return fmt.Errorf("%s is not implemented by the orders-platform random stand-in "+
			"(only RandomPassword and RandomString are)", t)
	}
	return nil
}

func (p *provider) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: Version}, nil
}

func (p *provider) GetSchema(context.Context, *pulumirpc.GetSchemaRequest) (*pulumirpc.GetSchemaResponse, error) {
	return &pulumirpc.GetSchemaResponse{Schema: fmt.Sprintf(`{"name":"random","version":%q}`, Version)}, nil
}

func (p *provider) CheckConfig(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	return &pulumirpc.CheckResponse{Inputs: req.GetNews()}, nil
}

func (p *provider) DiffConfig(context.Context, *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
}

func (p *provider) Configure(context.Context, *pulumirpc.ConfigureRequest) (*pulumirpc.ConfigureResponse, error) {
	return &pulumirpc.ConfigureResponse{AcceptSecrets: true, SupportsPreview: true}, nil
}

func (p *provider) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}

// Check applies the defaults and validates the lengths.
func (p *provider) Check(_ context.Context, req *pulumirpc.CheckRequest) (*pulumirpc.CheckResponse, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	var failures []*pulumirpc.CheckFailure
	fail := func(prop, reason string) {
		failures = append(failures, &pulumirpc.CheckFailure{Property: prop, Reason: reason})
	}
	setDefault := func(k string, v resource.PropertyValue) {
		if _, ok := news[resource.PropertyKey(k)]; !ok {
			news[resource.PropertyKey(k)] = v
		}
	}
	for _, k := range []string{"special", "upper", "lower"} {
		setDefault(k, resource.NewBoolProperty(true))
	}
	for _, k := range []string{"minLower", "minNumeric", "minSpecial", "minUpper"} {
		setDefault(k, resource.NewNumberProperty(0))
	}
	// numeric replaced the deprecated number; either one set to false turns digits off.
	num, hasNum := news["numeric"]
	old, hasOld := news["number"]
	switch {
	case hasNum && !num.IsComputed():
		news["number"] = num
	case hasOld && !old.IsComputed():
		news["numeric"] = old
	default:
		setDefault("numeric", resource.NewBoolProperty(true))
		setDefault("number", resource.NewBoolProperty(true))
	}
	length, ok := news["length"]
	switch {
	case !ok:
		fail("length", "length is required")
	case length.IsComputed():
	case !length.IsNumber() || length.NumberValue() < 1:
		fail("length", "length must be a number >= 1")
	default:
		sum := 0.0
		for _, k := range []string{"minLower", "minNumeric", "minSpecial", "minUpper"} {
			if v := news[resource.PropertyKey(k)]; v.IsNumber() {
				sum += v.NumberValue()
			}
		}
		if sum > length.NumberValue() {
			fail("length", fmt.Sprintf("length (%v) must be >= the sum of the min* counts (%v)", length.NumberValue(), sum))
		}
	}
	inputs, err := marshal(news)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CheckResponse{Inputs: inputs, Failures: failures}, nil
}

// Diff: every input forces a replacement, as in the Terraform random provider.
func (p *provider) Diff(_ context.Context, req *pulumirpc.DiffRequest) (*pulumirpc.DiffResponse, error) {
	oldStruct := req.GetOldInputs()
	if oldStruct == nil {
		oldStruct = req.GetOlds()
	}
	olds, err := unmarshal(oldStruct)
	if err != nil {
		return nil, err
	}
	news, err := unmarshal(req.GetNews())
	if err != nil {
		return nil, err
	}
	ignored := map[string]bool{}
	for _, k := range req.GetIgnoreChanges() {
		ignored[k] = true
	}
	var replaces []string
	for _, k := range inputKeys {
		if ignored[k] {
			continue
		}
		o, n := olds[resource.PropertyKey(k)], news[resource.PropertyKey(k)]
		if n.IsComputed() || !o.DeepEquals(n) {
			replaces = append(replaces, k)
		}
	}
	if len(replaces) == 0 {
		return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_NONE}, nil
	}
	sort.Strings(replaces)
	return &pulumirpc.DiffResponse{Changes: pulumirpc.DiffResponse_DIFF_SOME, Replaces: replaces, Diffs: replaces}, nil
}

func boolOf(m resource.PropertyMap, k string) bool {
	v := m[resource.PropertyKey(k)]
	return v.IsBool() && v.BoolValue()
}

func intOf(m resource.PropertyMap, k string) int {
	if v := m[resource.PropertyKey(k)]; v.IsNumber() {
		return int(v.NumberValue())
	}
	return 0
}

func pick(set string) (byte, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(int64(len(set))))
	if err != nil {
		return 0, err
	}
	return set[n.Int64()], nil
}

// generate follows random_string: the min* characters of each class first, the rest from all
// enabled classes, then a uniform shuffle.
func generate(in resource.PropertyMap) (string, error) {
	special := defaultSpecial
	if v := in["overrideSpecial"]; v.IsString() && v.StringValue() != "" {
		special = v.StringValue()
	}
	classes := []struct {
		on   bool
		set  string
		min  int
		name string
	}{
		{boolOf(in, "upper"), "ABCDEFGHIJKLMNOPQRSTUVWXYZ", intOf(in, "minUpper"), "upper"},
		{boolOf(in, "lower"), "abcdefghijklmnopqrstuvwxyz", intOf(in, "minLower"), "lower"},
		{boolOf(in, "numeric"), "0123456789", intOf(in, "minNumeric"), "numeric"},
		{boolOf(in, "special"), special, intOf(in, "minSpecial"), "special"},
	}
	length := intOf(in, "length")
	var all string
	var out []byte
	for _, c := range classes {
		if !c.on {
			continue
		}
		all += c.set
		for i := 0; i < c.min; i++ {
			b, err := pick(c.set)
			if err != nil {
				return "", err
			}
			out = append(out, b)
		}
	}
	if all == "" {
		return "", errors.New("at least one of upper, lower, numeric and special must be true")
	}
	for len(out) < length {
		b, err := pick(all)
		if err != nil {
			return "", err
		}
		out = append(out, b)
	}
	for i := len(out) - 1; i > 0; i-- {
		j, err := rand.Int(rand.Reader, big.NewInt(int64(i+1)))
		if err != nil {
			return "", err
		}
		out[i], out[j.Int64()] = out[j.Int64()], out[i]
	}
	return string(out), nil
}

func (p *provider) Create(_ context.Context, req *pulumirpc.CreateRequest) (*pulumirpc.CreateResponse, error) {
	if err := checkType(req.GetType()); err != nil {
		return nil, err
	}
	in, err := unmarshal(req.GetProperties())
	if err != nil {
		return nil, err
	}
	outs := in.Copy()
	isPassword := req.GetType() == passwordType
	secret := func(v resource.PropertyValue) resource.PropertyValue {
		if isPassword {
			return resource.MakeSecret(v)
		}
		return v
	}
	if req.GetPreview() {
		outs["result"] = secret(resource.MakeComputed(resource.NewStringProperty("")))
		if isPassword {
			outs["bcryptHash"] = secret(resource.MakeComputed(resource.NewStringProperty("")))
		}
		props, err := marshal(outs)
		return &pulumirpc.CreateResponse{Properties: props}, err
	}
	result, err := generate(in)
	if err != nil {
		return nil, err
	}
	id := result
	outs["result"] = secret(resource.NewStringProperty(result))
	if isPassword {
		id = "none"
		hash, err := bcrypt.GenerateFromPassword([]byte(result), bcrypt.DefaultCost)
		if err != nil {
			return nil, err
		}
		outs["bcryptHash"] = secret(resource.NewStringProperty(string(hash)))
	}
	props, err := marshal(outs)
	if err != nil {
		return nil, err
	}
	return &pulumirpc.CreateResponse{Id: id, Properties: props}, nil
}

// Read (refresh) keeps the state: there is nothing outside Pulumi's state to read.
func (p *provider) Read(_ context.Context, req *pulumirpc.ReadRequest) (*pulumirpc.ReadResponse, error) {
	if req.GetProperties() == nil {
		return nil, errors.New("import is not supported by the orders-platform random stand-in")
	}
	return &pulumirpc.ReadResponse{Id: req.GetId(), Properties: req.GetProperties(), Inputs: req.GetInputs()}, nil
}

// Update only happens for ignored changes: the outputs stay as they are.
func (p *provider) Update(_ context.Context, req *pulumirpc.UpdateRequest) (*pulumirpc.UpdateResponse, error) {
	return &pulumirpc.UpdateResponse{Properties: req.GetOlds()}, nil
}

func (p *provider) Delete(context.Context, *pulumirpc.DeleteRequest) (*emptypb.Empty, error) {
	return &emptypb.Empty{}, nil
}
