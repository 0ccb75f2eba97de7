// The interop suite's Go SDK v2 client (tests/interop/README.md): configured by nothing but the
// pod's environment, it runs the suite's script through config.LoadDefaultConfig's credentials
// chain and prints one JSON line per step. It decides nothing: the Rust test compares what it saw
// with what AWS would answer.
//
// Usage: interop allowed <id> | refused <id> | refresh <id> | probe <id>
// (refresh: one GetItem per line `ROUND OFFSET_SECONDS` read from stdin, until stdin closes;
// probe: one GetCallerIdentity through the default chain, for the environment measurements)
//
// The same source is built against two module sets: `go.mod` here (current) and
// `../go-2023-09/go.mod` (September 2023, before the SDK read `AWS_ENDPOINT_URL*`).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	_ "unsafe" // go:linkname, below

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
)

var version = sdkVersion()

// sdkNowTime is the SDK's own clock hook (internal/sdk.NowTime: "can be overridden for testing
// mocking out current time"). Every expiry decision and every signature of the SDK reads it. In
// refresh mode the program moves it with the harness clock, as libfaketime moves the other
// SDKs' processes (Go reads the time without libc, so libfaketime cannot).
//
//go:linkname sdkNowTime github.com/aws/aws-sdk-go-v2/internal/sdk.NowTime
var sdkNowTime func() time.Time

// sdkVersion names the core module's version and the config module's (which decides what the
// environment configures): `v1.48.0 (config v1.33.18)`.
func sdkVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	core, cfg := "unknown", "unknown"
	for _, dep := range info.Deps {
		switch dep.Path {
		case "github.com/aws/aws-sdk-go-v2":
			core = dep.Version
		case "github.com/aws/aws-sdk-go-v2/config":
			cfg = dep.Version
		}
	}
	return core + " (config " + cfg + ")"
}

func emit(fields map[string]any) {
	line, _ := json.Marshal(fields)
	fmt.Println(string(line))
}

func step(name string, body func() (string, error)) {
	detail, err := body()
	out := map[string]any{"event": "step", "sdk": "go", "version": version, "step": name}
	if err == nil {
		out["ok"], out["code"], out["detail"] = true, nil, detail
	} else {
		out["ok"], out["detail"] = false, err.Error()
		var api smithy.APIError
		if errors.As(err, &api) {
			out["code"] = api.ErrorCode()
		} else {
			out["code"] = nil
		}
	}
	emit(out)
}

// guardTransport makes the SDK's own transport (the one `AWS_CA_BUNDLE` is added to, so it
// must stay the SDK's `BuildableClient`) report where each request goes and refuse every
// connection to anything but this machine, before any name is resolved: nothing can reach
// `*.amazonaws.com`. A request for an AWS host name still reaches the harness when the
// transport sends it through a proxy on this machine (`HTTPS_PROXY`: the transport's `Proxy`
// hook, which net/http calls once per request, says so); if the SDK ignored the proxy setting
// the dial to the AWS host is refused and the program says which host it was.
func guardTransport(tr *http.Transport) {
	proxy := tr.Proxy
	tr.Proxy = func(r *http.Request) (*url.URL, error) {
		var via *url.URL
		var err error
		if proxy != nil {
			via, err = proxy(r)
		}
		target := hostPort(r.URL)
		next := target
		if via != nil {
			next = hostPort(via)
		}
		emit(map[string]any{"event": "request", "sdk": "go", "version": version,
			"host": target, "proxy": via != nil, "sent": isLoopback(next)})
		return via, err
	}
	dial := tr.DialContext
	tr.DialContext = func(ctx context.Context, network, address string) (net.Conn, error) {
		host, _, _ := net.SplitHostPort(address)
		if !isLoopback(host) {
			return nil, fmt.Errorf("irsa-harness interop: refused to connect to `%s`: not this machine", address)
		}
		return dial(ctx, network, address)
	}
}

func isLoopback(hostPort string) bool {
	host := hostPort
	if h, _, err := net.SplitHostPort(hostPort); err == nil {
		host = h
	}
	return host == "127.0.0.1" || host == "localhost" || host == "::1"
}

// hostPort is `host:port`, with the scheme's port when the URL names none.
func hostPort(u *url.URL) string {
	if u.Port() != "" {
		return u.Host
	}
	if u.Scheme == "http" {
		return net.JoinHostPort(u.Hostname(), "80")
	}
	return net.JoinHostPort(u.Hostname(), "443")
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func main() {
	mode, id := os.Args[1], os.Args[2]
	pk := "un#" + id
	ctx := context.Background()
	client := awshttp.NewBuildableClient().WithTransportOptions(guardTransport)
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(client))
	if err != nil {
		step("load-config", func() (string, error) { return "", err })
		return
	}
	stsClient := sts.NewFromConfig(cfg)
	ddb := dynamodb.NewFromConfig(cfg)
	if mode == "probe" {
		step("probe", func() (string, error) {
			out, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Arn), nil
		})
		return
	}
	if mode == "refused" {
		step("sts-refusal", func() (string, error) {
			out, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
			if err != nil {
				return "", err
			}
			return aws.ToString(out.Arn), nil
		})
		return
	}
	if mode == "refresh" {
		in := bufio.NewScanner(os.Stdin)
		for in.Scan() {
			fields := strings.Fields(in.Text())
			if len(fields) != 2 {
				continue
			}
			round := fields[0]
			offset, err := strconv.ParseInt(fields[1], 10, 64)
			if err != nil {
				continue
			}
			sdkNowTime = func() time.Time { return time.Now().Add(time.Duration(offset) * time.Second) }
			step("refresh-"+round, func() (string, error) {
				_, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("curity-accounts"),
					Key: map[string]types.AttributeValue{"pk": s(pk)}})
				return "200", err
			})
		}
		return
	}
	step("get-caller-identity", func() (string, error) {
		out, err := stsClient.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Arn), nil
	})
	step("put-item", func() (string, error) {
		_, err := ddb.PutItem(ctx, &dynamodb.PutItemInput{TableName: aws.String("curity-accounts"),
			Item: map[string]types.AttributeValue{"pk": s(pk), "userNameInitial": s(id),
				"userName": s(id + "-name")}})
		return pk, err
	})
	step("get-item", func() (string, error) {
		out, err := ddb.GetItem(ctx, &dynamodb.GetItemInput{TableName: aws.String("curity-accounts"),
			Key: map[string]types.AttributeValue{"pk": s(pk)}, ConsistentRead: aws.Bool(true)})
		if err != nil {
			return "", err
		}
		if v, ok := out.Item["userName"].(*types.AttributeValueMemberS); ok {
			return v.Value, nil
		}
		return "<no item>", nil
	})
	step("query", func() (string, error) {
		out, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("curity-accounts"),
			KeyConditionExpression:    aws.String("pk = :pk"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":pk": s(pk)}})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(out.Count), nil
	})
	step("query-index", func() (string, error) {
		out, err := ddb.Query(ctx, &dynamodb.QueryInput{TableName: aws.String("curity-accounts"),
			IndexName:                 aws.String("userNameInitial-userName-index"),
			KeyConditionExpression:    aws.String("userNameInitial = :i"),
			ExpressionAttributeValues: map[string]types.AttributeValue{":i": s(id)}})
		if err != nil {
			return "", err
		}
		return fmt.Sprint(out.Count), nil
	})
	step("delete-table-denied", func() (string, error) {
		out, err := ddb.DeleteTable(ctx, &dynamodb.DeleteTableInput{TableName: aws.String("curity-audit")})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.TableDescription.TableName), nil
	})
}
