// The interop suite's Go SDK v2 client (tests/interop/README.md): configured by nothing but the
// pod's environment, it runs the suite's script through config.LoadDefaultConfig's credentials
// chain and prints one JSON line per step. It decides nothing: the Rust test compares what it saw
// with what AWS would answer.
//
// Usage: interop allowed <id> | refused <id> | refresh <id>
// (refresh: one GetItem per line `ROUND OFFSET_SECONDS` read from stdin, until stdin closes)
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"
	_ "unsafe" // go:linkname, below

	"github.com/aws/aws-sdk-go-v2/aws"
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

func sdkVersion() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	for _, dep := range info.Deps {
		if dep.Path == "github.com/aws/aws-sdk-go-v2" {
			return dep.Version
		}
	}
	return "unknown"
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

// loopbackOnly reports where each request goes and refuses anything not addressed to this
// machine, so nothing can reach `*.amazonaws.com` even if an endpoint variable were ignored.
type loopbackOnly struct{ next http.RoundTripper }

func (l loopbackOnly) RoundTrip(r *http.Request) (*http.Response, error) {
	host := r.URL.Hostname()
	local := host == "127.0.0.1" || host == "localhost"
	emit(map[string]any{"event": "request", "sdk": "go", "version": version,
		"host": r.URL.Host, "target": r.Header.Get("X-Amz-Target"), "sent": local})
	if !local {
		return nil, &url.Error{Op: r.Method, URL: r.URL.String(),
			Err: errors.New("irsa-harness interop: refused to send to a non-loopback host")}
	}
	return l.next.RoundTrip(r)
}

func s(v string) types.AttributeValue { return &types.AttributeValueMemberS{Value: v} }

func main() {
	mode, id := os.Args[1], os.Args[2]
	pk := "un#" + id
	ctx := context.Background()
	client := &http.Client{Transport: loopbackOnly{next: http.DefaultTransport}}
	cfg, err := config.LoadDefaultConfig(ctx, config.WithHTTPClient(client))
	if err != nil {
		step("load-config", func() (string, error) { return "", err })
		return
	}
	stsClient := sts.NewFromConfig(cfg)
	ddb := dynamodb.NewFromConfig(cfg)
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
