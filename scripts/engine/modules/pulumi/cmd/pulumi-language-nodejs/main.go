// Command pulumi-language-nodejs is a small Node.js language host for the Pulumi engine, written
// for orders-platform's engine harness.
//
// Why our own: upstream's language host is its own Go module
// (github.com/pulumi/pulumi/sdk/nodejs/cmd/pulumi-language-nodejs/v3), which the Go module proxy
// reachable here refuses (403), while pkg/v3 and sdk/v3 are served. This host implements the
// parts of the LanguageRuntime gRPC protocol the engine uses for TypeScript programs and
// policy packs, on top of sdk/v3's helpers, and starts the Node.js entry points that ship in
// @pulumi/pulumi itself (cmd/run, cmd/run-policy-pack, cmd/run-plugin):
//
//   - Handshake, GetPluginInfo, About, Cancel
//   - GetRequiredPackages: providers named by node_modules/**/package.json ("pulumi": {"resource": true})
//   - Run: node @pulumi/pulumi/cmd/run with the engine's monitor address (no monitor proxy and no
//     synchronous-invoke pipes: the SDK then makes every invoke asynchronously, as current SDKs do)
//   - RunPlugin: policy packs (kind "analyzer") through sdk.PolicyProxy, other plugins via cmd/run-plugin
//   - InstallDependencies and GetProgramDependencies through sdk/v3's nodejs/npm package
//
// Not implemented (the engine reports Unimplemented): code generation, Pack, Link, Template,
// debugger attachment, the bun runtime, fnm node version switching.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/emptypb"

	sdk "github.com/pulumi/pulumi/sdk/v3"
	"github.com/pulumi/pulumi/sdk/v3/go/common/apitype"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/config"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource/plugin"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/cmdutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/logging"
	"github.com/pulumi/pulumi/sdk/v3/go/common/util/rpcutil"
	"github.com/pulumi/pulumi/sdk/v3/go/common/version"
	"github.com/pulumi/pulumi/sdk/v3/go/common/workspace"
	"github.com/pulumi/pulumi/sdk/v3/nodejs/npm"
	pulumirpc "github.com/pulumi/pulumi/sdk/v3/proto/go"
)

// Exit code with which @pulumi/pulumi/cmd/run says "the error was already shown to the user".
const exitAfterUserMessage = 32

func main() {
	flag.String("tracing", "", "accepted for compatibility; tracing is not supported by this host")
	runtimeName := flag.String("runtime", "nodejs", "only nodejs is supported")
	showVersion := flag.Bool("version", false, "print the version and exit")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.Version)
		return
	}
	if *runtimeName != "nodejs" {
		cmdutil.Exit(fmt.Errorf("unsupported runtime %q: this language host only runs nodejs", *runtimeName))
	}
	logging.InitLogging(false, 0, false)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	cancel := make(chan bool)
	go func() { <-ctx.Done(); stop(); close(cancel) }()

	h := newHost()
	if args := flag.Args(); len(args) > 0 {
		if err := h.setEngine(args[0]); err != nil {
			cmdutil.Exit(err)
		}
	}
	handle, err := rpcutil.ServeWithOptions(rpcutil.ServeOptions{
		Cancel: cancel,
		Init: func(srv *grpc.Server) error {
			pulumirpc.RegisterLanguageRuntimeServer(srv, h)
			return nil
		},
	})
	if err != nil {
		cmdutil.Exit(fmt.Errorf("could not start the language host's gRPC server: %w", err))
	}
	fmt.Printf("%d\n", handle.Port)
	if err := <-handle.Done; err != nil {
		cmdutil.Exit(fmt.Errorf("language host stopped serving: %w", err))
	}
}

type host struct {
	pulumirpc.UnimplementedLanguageRuntimeServer

	mu            sync.Mutex
	engineAddress string
	cancelCtx     context.Context
	cancelAll     context.CancelFunc
}

func newHost() *host {
	ctx, cancel := context.WithCancel(context.Background())
	return &host{cancelCtx: ctx, cancelAll: cancel}
}

// setEngine records the engine's address and exits this process when the engine goes away.
func (h *host) setEngine(addr string) error {
	h.mu.Lock()
	h.engineAddress = addr
	h.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	if err := rpcutil.Healthcheck(ctx, addr, 5*time.Minute, cancel); err != nil {
		return fmt.Errorf("could not start the engine health check: %w", err)
	}
	return nil
}

func (h *host) engine() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.engineAddress
}

func (h *host) Handshake(ctx context.Context, req *pulumirpc.LanguageHandshakeRequest,
) (*pulumirpc.LanguageHandshakeResponse, error) {
	if err := h.setEngine(req.GetEngineAddress()); err != nil {
		return nil, err
	}
	return &pulumirpc.LanguageHandshakeResponse{}, nil
}

func (h *host) GetPluginInfo(context.Context, *emptypb.Empty) (*pulumirpc.PluginInfo, error) {
	return &pulumirpc.PluginInfo{Version: version.Version}, nil
}

func (h *host) Cancel(context.Context, *emptypb.Empty) (*emptypb.Empty, error) {
	h.cancelAll()
	return &emptypb.Empty{}, nil
}

// options are the `runtime.options` of Pulumi.yaml / PulumiPolicy.yaml that this host honours.
type options struct {
	typescript     bool
	tsconfig       string
	nodeargs       []string
	packagemanager npm.PackageManagerType
}

func parseOptions(info *pulumirpc.ProgramInfo) (options, error) {
	o := options{typescript: true, packagemanager: npm.AutoPackageManager}
	if info == nil || info.GetOptions() == nil {
		return o, nil
	}
	for k, v := range info.GetOptions().AsMap() {
		switch k {
		case "typescript":
			b, ok := v.(bool)
			if !ok {
				return o, errors.New("runtime option typescript must be a boolean")
			}
			o.typescript = b
		case "tsconfig":
			s, ok := v.(string)
			if !ok {
				return o, errors.New("runtime option tsconfig must be a string")
			}
			o.tsconfig = s
		case "nodeargs":
			s, ok := v.(string)
			if !ok {
				return o, errors.New("runtime option nodeargs must be a string")
			}
			o.nodeargs = strings.Fields(s) // no shell quoting support
		case "packagemanager":
			s, ok := v.(string)
			if !ok {
				return o, errors.New("runtime option packagemanager must be a string")
			}
			o.packagemanager = npm.PackageManagerType(s)
		}
	}
	return o, nil
}

func (o options) env() []string {
	var env []string
	if o.typescript {
		env = append(env, "PULUMI_NODEJS_TYPESCRIPT=true")
	}
	if o.tsconfig != "" {
		env = append(env, "PULUMI_NODEJS_TSCONFIG_PATH="+o.tsconfig)
	}
	return env
}

// resolveModule asks node where a module resolves from dir (so the program's own @pulumi/pulumi runs).
func resolveModule(ctx context.Context, node, dir, module string) (string, error) {
	script := fmt.Sprintf(`try { console.log(require.resolve(%q)); } catch (e) { `+
		`console.error(e.code === "MODULE_NOT_FOUND" ? "cannot find %s from %s: install the dependencies (npm ci)" : e.message); `+
		`process.exit(1); }`, module, module, dir)
	cmd := exec.CommandContext(ctx, node, "-e", script)
	cmd.Dir = dir
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return "", errors.New(msg)
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// GetRequiredPackages lists the resource providers that the program's node_modules ship SDKs for.
func (h *host) GetRequiredPackages(ctx context.Context, req *pulumirpc.GetRequiredPackagesRequest,
) (*pulumirpc.GetRequiredPackagesResponse, error) {
	dir := req.GetInfo().GetProgramDirectory()
	seen := map[string]bool{}
	var pkgs []*pulumirpc.PackageDependency
	walkPackages(dir, false, map[string]bool{}, func(pj packageJSON) {
		if !pj.Pulumi.Resource {
			return
		}
		name := pj.Pulumi.Name
		if name == "" {
			if !strings.HasPrefix(pj.Name, "@pulumi/") {
				logging.V(3).Infof("skipping %s: third-party provider package without pulumi.name", pj.Name)
				return
			}
			name = strings.TrimPrefix(pj.Name, "@pulumi/")
		}
		v := pj.Pulumi.Version
		if v == "" {
			v = pj.Version
		}
		if v != "" && !strings.HasPrefix(v, "v") {
			v = "v" + v
		}
		dep := &pulumirpc.PackageDependency{Name: name, Kind: string(apitype.ResourcePlugin), Version: v,
			Server: pj.Pulumi.Server}
		if p := pj.Pulumi.Parameterization; p != nil {
			dep.Parameterization = &pulumirpc.PackageParameterization{Name: p.Name, Version: p.Version, Value: p.Value}
		}
		key := name + "@" + v
		if dep.Parameterization != nil {
			key += "/" + dep.Parameterization.Name + "@" + dep.Parameterization.Version
		}
		if !seen[key] {
			seen[key] = true
			pkgs = append(pkgs, dep)
		}
	})
	return &pulumirpc.GetRequiredPackagesResponse{Packages: pkgs}, nil
}

type packageJSON struct {
	Name    string                  `json:"name"`
	Version string                  `json:"version"`
	Pulumi  plugin.PulumiPluginJSON `json:"pulumi"`
}

// walkPackages visits every package.json below a node_modules directory under dir, following
// symlinks once and skipping policy packs (their providers are not the program's).
func walkPackages(dir string, inNodeModules bool, visited map[string]bool, visit func(packageJSON)) {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil || visited[real] {
		return
	}
	visited[real] = true
	entries, err := os.ReadDir(real)
	if err != nil {
		return
	}
	for _, e := range entries {
		p := filepath.Join(real, e.Name())
		fi, err := os.Stat(p) // follows symlinks
		if err != nil {
			continue
		}
		if fi.IsDir() {
			if e.Name() == ".git" {
				continue
			}
			if pp, _ := workspace.DetectPolicyPackPathAt(p); pp != "" {
				continue
			}
			walkPackages(p, inNodeModules || filepath.Base(real) == "node_modules", visited, visit)
			continue
		}
		if inNodeModules && e.Name() == "package.json" {
			b, err := os.ReadFile(p)
			if err != nil {
				continue
			}
			var pj packageJSON
			if json.Unmarshal(b, &pj) == nil {
				visit(pj)
			}
		}
	}
}

// Run runs the program with @pulumi/pulumi/cmd/run, talking straight to the engine's monitor.
func (h *host) Run(ctx context.Context, req *pulumirpc.RunRequest) (*pulumirpc.RunResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return &pulumirpc.RunResponse{Error: "could not find node on $PATH: " + err.Error()}, nil
	}
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	runPath := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH")
	if runPath == "" {
		runPath = "@pulumi/pulumi/cmd/run"
	}
	if runPath, err = resolveModule(ctx, node, dir, runPath); err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}
	opts, err := parseOptions(info)
	if err != nil {
		return &pulumirpc.RunResponse{Error: err.Error()}, nil
	}

	args := append([]string{}, opts.nodeargs...)
	args = append(args, runPath)
	flagIf := func(name, value string) {
		if value != "" {
			args = append(args, "--"+name, value)
		}
	}
	flagIf("monitor", req.GetMonitorAddress())
	flagIf("engine", h.engine())
	flagIf("organization", req.GetOrganization())
	flagIf("project", req.GetProject())
	flagIf("root-directory", info.GetRootDirectory())
	flagIf("stack", req.GetStack())
	flagIf("pwd", dir)
	if req.GetDryRun() {
		args = append(args, "--dry-run")
	}
	flagIf("parallel", strconv.Itoa(int(req.GetParallel())))
	entry := info.GetEntryPoint()
	if entry == "" {
		entry = "."
	}
	args = append(args, entry)
	args = append(args, req.GetArgs()...)

	// Configuration travels in the environment, keys in the "<namespace>:config:<name>" form that
	// every @pulumi/pulumi version reads.
	cfg := map[string]string{}
	for k, v := range req.GetConfig() {
		key, err := config.ParseKey(k)
		if err != nil {
			return &pulumirpc.RunResponse{Error: err.Error()}, nil
		}
		cfg[key.Namespace()+":config:"+key.Name()] = v
	}
	cfgJSON, _ := json.Marshal(cfg)
	secretKeys := req.GetConfigSecretKeys()
	if secretKeys == nil {
		secretKeys = []string{}
	}
	secretJSON, _ := json.Marshal(secretKeys)
	env := append(os.Environ(), "PULUMI_CONFIG="+string(cfgJSON), "PULUMI_CONFIG_SECRET_KEYS="+string(secretJSON))
	env = append(env, opts.env()...)

	cmdCtx, cmdCancel := context.WithCancel(h.cancelCtx)
	defer cmdCancel()
	stopWithRequest := context.AfterFunc(ctx, cmdCancel)
	defer stopWithRequest()
	cmd := exec.CommandContext(cmdCtx, node, args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 5 * time.Second
	cmd.Env = env
	// Node may switch its stdio to non-blocking mode; wrapping keeps our own fds out of its hands.
	cmd.Stdout = struct{ io.Writer }{os.Stdout}
	cmd.Stderr = struct{ io.Writer }{os.Stderr}
	logging.V(5).Infof("running %s %s", node, strings.Join(args, " "))

	err = cmd.Run()
	_ = os.Stdout.Sync()
	_ = os.Stderr.Sync()
	var exitErr *exec.ExitError
	switch {
	case err == nil:
		return &pulumirpc.RunResponse{}, nil
	case errors.As(err, &exitErr) && exitErr.ExitCode() == exitAfterUserMessage:
		return &pulumirpc.RunResponse{Bail: true}, nil
	case errors.As(err, &exitErr):
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("Program exited with non-zero exit code: %d", exitErr.ExitCode())}, nil
	default:
		return &pulumirpc.RunResponse{Error: fmt.Sprintf("could not run node: %v", err)}, nil
	}
}

// RunPlugin runs a plugin written in TypeScript/JavaScript; the engine uses it for policy packs.
func (h *host) RunPlugin(req *pulumirpc.RunPluginRequest, server pulumirpc.LanguageRuntime_RunPluginServer) error {
	ctx := server.Context()
	closer, stdout, stderr, err := rpcutil.MakeRunPluginStreams(server, false)
	if err != nil {
		return err
	}
	defer closer.Close()

	node, err := exec.LookPath("node")
	if err != nil {
		return fmt.Errorf("could not find node on $PATH: %w", err)
	}
	info := req.GetInfo()
	dir := info.GetProgramDirectory()
	opts, err := parseOptions(info)
	if err != nil {
		return err
	}
	analyzer := req.GetKind() == string(apitype.AnalyzerPlugin)
	module := "@pulumi/pulumi/cmd/run-plugin"
	if analyzer {
		module = "@pulumi/pulumi/cmd/run-policy-pack"
	} else if p := os.Getenv("PULUMI_LANGUAGE_NODEJS_RUN_PATH"); p != "" {
		module = p
	}
	runPath, err := resolveModule(ctx, node, dir, module)
	if err != nil {
		return err
	}

	args := []string{runPath}
	args = append(args, opts.nodeargs...)
	if analyzer { // policy packs take the pack directory last
		args = append(args, req.GetArgs()...)
		args = append(args, dir)
	} else {
		args = append(args, dir)
		args = append(args, req.GetArgs()...)
	}
	env := append(append([]string{}, req.GetEnv()...), opts.env()...)

	// Policy packs learn the stack's configuration from the environment: sdk.PolicyProxy answers
	// the engine's ConfigureStack first, then forwards everything to the real pack process.
	var proxy *sdk.PolicyProxy
	if analyzer {
		if proxy, stdout, err = sdk.NewPolicyProxy(ctx, stdout); err != nil {
			return fmt.Errorf("could not start the policy pack proxy: %w", err)
		}
		cfg, err := proxy.AwaitConfiguration(ctx)
		if err != nil {
			return fmt.Errorf("could not get the stack configuration for the policy pack: %w", err)
		}
		if cfg != nil {
			add := func(k, v string) {
				if v != "" {
					env = append(env, k+"="+v)
				}
			}
			add("PULUMI_NODEJS_ORGANIZATION", cfg.GetOrganization())
			add("PULUMI_NODEJS_PROJECT", cfg.GetProject())
			add("PULUMI_NODEJS_STACK", cfg.GetStack())
			add("PULUMI_NODEJS_DRY_RUN", strconv.FormatBool(cfg.GetDryRun()))
			if cfg.GetConfig() != nil {
				b, err := json.Marshal(cfg.GetConfig())
				if err != nil {
					return err
				}
				add("PULUMI_CONFIG", string(b))
			}
		}
	}

	cmd := exec.CommandContext(ctx, node, args...)
	cmd.Dir = req.GetPwd()
	if analyzer { // policy packs have always run from their own directory
		cmd.Dir = dir
	}
	cmd.Env = env
	cmd.Stdout, cmd.Stderr = stdout, stderr
	logging.V(5).Infof("running plugin: %s %s", node, strings.Join(args, " "))
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("could not run node: %w", err)
	}
	if proxy != nil {
		err = proxy.Attach(ctx, cmd)
	} else {
		err = cmd.Wait()
	}
	if err != nil {
		var exitErr *exec.ExitError
		if errors.As(err, &exitErr) {
			if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok {
				return fmt.Errorf("Program exited with non-zero exit code: %d", ws.ExitStatus())
			}
		}
		return err
	}
	return closer.Close()
}

func (h *host) InstallDependencies(req *pulumirpc.InstallDependenciesRequest,
	server pulumirpc.LanguageRuntime_InstallDependenciesServer,
) error {
	closer, stdout, stderr, err := rpcutil.MakeInstallDependenciesStreams(server, req.GetIsTerminal())
	if err != nil {
		return err
	}
	defer closer.Close()
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return err
	}
	dir := req.GetInfo().GetProgramDirectory()
	if root, err := npm.FindWorkspaceRoot(dir); err == nil {
		fmt.Fprintf(stdout, "Detected workspace root at %s\n", root)
		dir = root
	} else if !errors.Is(err, npm.ErrNotInWorkspace) {
		return err
	}
	fmt.Fprintln(stdout, "Installing dependencies...")
	if _, err := npm.Install(server.Context(), opts.packagemanager, dir, false, stdout, stderr); err != nil {
		return err
	}
	fmt.Fprintln(stdout, "Finished installing dependencies")
	return closer.Close()
}

func (h *host) GetProgramDependencies(ctx context.Context, req *pulumirpc.GetProgramDependenciesRequest,
) (*pulumirpc.GetProgramDependenciesResponse, error) {
	opts, err := parseOptions(req.GetInfo())
	if err != nil {
		return nil, err
	}
	dir := req.GetInfo().GetProgramDirectory()
	pm, err := npm.ResolvePackageManager(opts.packagemanager, dir)
	if err != nil {
		return nil, err
	}
	pkgs, err := pm.ListPackages(ctx, dir, req.GetTransitiveDependencies())
	if err != nil {
		return nil, err
	}
	resp := &pulumirpc.GetProgramDependenciesResponse{}
	for _, p := range pkgs {
		resp.Dependencies = append(resp.Dependencies, &pulumirpc.DependencyInfo{Name: p.Name, Version: p.Version})
	}
	return resp, nil
}

func (h *host) About(ctx context.Context, req *pulumirpc.AboutRequest) (*pulumirpc.AboutResponse, error) {
	node, err := exec.LookPath("node")
	if err != nil {
		return nil, err
	}
	out, _ := exec.CommandContext(ctx, node, "--version").Output()
	return &pulumirpc.AboutResponse{
		Executable: node,
		Version:    strings.TrimSpace(string(out)),
		Metadata:   map[string]string{"languageHost": "orders-platform minimal nodejs host"},
	}, nil
}

func (h *host) RuntimeOptionsPrompts(context.Context, *pulumirpc.RuntimeOptionsRequest,
) (*pulumirpc.RuntimeOptionsResponse, error) {
	return &pulumirpc.RuntimeOptionsResponse{}, nil
}
