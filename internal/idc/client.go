// Package idc is warden's client for AWS IAM Identity Center, over the AWS SDK for Go v2:
// Organizations (accounts), sso-admin (permission sets, account assignments) and identitystore
// (users, groups, memberships). Every call goes through one shared limiter for Identity Center's
// collective rate (about 20 calls per second per account, not raisable), with two lanes so that
// grants and revocations never wait behind observation. Throttling and ConflictException (a previous
// write still propagating) are retried with backoff; every attempt waits for the limiter.
//
// Credentials and region come from the standard AWS chain (environment, shared config and profiles,
// SSO, instance roles), optionally assuming RoleARN. Endpoints follow the SDK's standard
// AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE> variables, which is how tests and the demo point
// warden at the simulator. Identifiers returned by AWS are treated as opaque.
package idc

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmw "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awsconfig "github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds"
	"github.com/aws/aws-sdk-go-v2/service/identitystore"
	istypes "github.com/aws/aws-sdk-go-v2/service/identitystore/types"
	"github.com/aws/aws-sdk-go-v2/service/organizations"
	"github.com/aws/aws-sdk-go-v2/service/ssoadmin"
	ssotypes "github.com/aws/aws-sdk-go-v2/service/ssoadmin/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
)

// Config is the identity_center section of warden's config file.
type Config struct {
	Region          string  `yaml:"region"`
	InstanceARN     string  `yaml:"instance_arn"`
	IdentityStoreID string  `yaml:"identity_store_id"`
	RoleARN         string  `yaml:"role_arn"`
	RateLimit       float64 `yaml:"rate_limit"`
	Accounts        Filter  `yaml:"accounts"`
	Groups          Filter  `yaml:"groups"`
	// SyncInterval is how often a full observation looks for drift (default 10m).
	SyncInterval time.Duration `yaml:"sync_interval"`
	// LeaseTTL is how long a replica's sync leadership lasts without renewal (default 15s).
	LeaseTTL time.Duration `yaml:"lease_ttl"`
	// RetryFailedAfter is the first wait before a FAILED assignment operation is tried again; it
	// doubles with each failure, up to 15 minutes (default 10s).
	RetryFailedAfter time.Duration `yaml:"retry_failed_after"`
	// RetryMaxBackoff caps the wait between retries of a throttled or conflicting call (default 20s).
	RetryMaxBackoff time.Duration `yaml:"retry_max_backoff"`
	// CallTimeout bounds one call, its retries included, from its first attempt (default 30s): a
	// call still failing, or not answered, then fails with the last error. The wait for the shared
	// rate before the first attempt is not counted, so a burst of queued revocations does not time out.
	CallTimeout time.Duration `yaml:"call_timeout"`
	// StartTimeout bounds the check made at start that Identity Center answers (default 10s).
	StartTimeout time.Duration `yaml:"start_timeout"`
	// Directory is how users, groups and memberships are written: identitystore (the default) or
	// scim, through Identity Center's SCIM endpoint (SCIM), as AWS expects when an external identity
	// provider is the identity source. Reads use the identitystore API either way.
	Directory string     `yaml:"directory"`
	SCIM      SCIMConfig `yaml:"scim"`
	// SafetyBrake is the largest share of what warden owns of any one kind (users, groups,
	// memberships, assignments) one plan may remove from Identity Center unless forced (default
	// 0.1; package reconcile weighs each operation by what it removes).
	SafetyBrake float64 `yaml:"safety_brake"`
}

// Filter keeps names matching any Include regex (all when empty) and no Exclude regex.
type Filter struct {
	Include []string `yaml:"include"`
	Exclude []string `yaml:"exclude"`
}

// Compile returns the filter as a test of a thing known by one or more names (an account by id and
// name): it is kept when some name matches an Include pattern (or there are none) and no name
// matches an Exclude pattern.
func (f Filter) Compile() (func(names ...string) bool, error) {
	compile := func(patterns []string) ([]*regexp.Regexp, error) {
		out := make([]*regexp.Regexp, 0, len(patterns))
		for _, p := range patterns {
			re, err := regexp.Compile(p)
			if err != nil {
				return nil, fmt.Errorf("%q is not a regular expression: %v", p, err)
			}
			out = append(out, re)
		}
		return out, nil
	}
	inc, err := compile(f.Include)
	if err != nil {
		return nil, err
	}
	exc, err := compile(f.Exclude)
	if err != nil {
		return nil, err
	}
	any := func(res []*regexp.Regexp, names []string) bool {
		for _, re := range res {
			for _, n := range names {
				if re.MatchString(n) {
					return true
				}
			}
		}
		return false
	}
	return func(names ...string) bool {
		return (len(inc) == 0 || any(inc, names)) && !any(exc, names)
	}, nil
}

// Validate checks the section, naming the field at fault.
func (c *Config) Validate() error {
	if c.Region == "" {
		return errors.New("identity_center.region: required (the region of the Identity Center instance)")
	}
	if c.InstanceARN != "" && !instanceARNRE.MatchString(c.InstanceARN) {
		return fmt.Errorf("identity_center.instance_arn: %q is not an Identity Center instance ARN (arn:aws:sso:::instance/ssoins-...)", c.InstanceARN)
	}
	if c.IdentityStoreID != "" && !storeIDRE.MatchString(c.IdentityStoreID) {
		return fmt.Errorf("identity_center.identity_store_id: %q is not an identity store id (d-1234567890)", c.IdentityStoreID)
	}
	if c.RateLimit < 0 {
		return fmt.Errorf("identity_center.rate_limit: %v must be positive", c.RateLimit)
	}
	for name, d := range map[string]time.Duration{"sync_interval": c.SyncInterval, "lease_ttl": c.LeaseTTL, "retry_failed_after": c.RetryFailedAfter,
		"retry_max_backoff": c.RetryMaxBackoff, "call_timeout": c.CallTimeout, "start_timeout": c.StartTimeout} {
		if d < 0 { // zero is the default; the config file's ranges are checked by package config
			return fmt.Errorf("identity_center.%s: %v must be positive", name, d)
		}
	}
	switch c.Directory {
	case "", DirectoryIdentityStore:
	case DirectorySCIM:
		if err := c.SCIM.Validate(); err != nil {
			return err
		}
	default:
		return fmt.Errorf("identity_center.directory: %q is not identitystore or scim", c.Directory)
	}
	if c.SafetyBrake < 0 || c.SafetyBrake > 1 {
		return fmt.Errorf("identity_center.safety_brake: %v is not a share between 0 and 1", c.SafetyBrake)
	}
	for name, f := range map[string]Filter{"accounts": c.Accounts, "groups": c.Groups} {
		if _, err := f.Compile(); err != nil {
			return fmt.Errorf("identity_center.%s: %v", name, err)
		}
	}
	return nil
}

// WithDefaults fills in unset values.
func (c Config) WithDefaults() Config {
	if c.RateLimit == 0 {
		c.RateLimit = 20
	}
	if c.SyncInterval == 0 {
		c.SyncInterval = 10 * time.Minute
	}
	if c.SafetyBrake == 0 {
		c.SafetyBrake = 0.1
	}
	if c.RetryFailedAfter == 0 {
		c.RetryFailedAfter = 10 * time.Second
	}
	if c.LeaseTTL == 0 {
		c.LeaseTTL = 15 * time.Second
	}
	if c.RetryMaxBackoff == 0 {
		c.RetryMaxBackoff = 20 * time.Second
	}
	if c.CallTimeout == 0 {
		c.CallTimeout = 30 * time.Second
	}
	if c.StartTimeout == 0 {
		c.StartTimeout = 10 * time.Second
	}
	return c
}

var (
	instanceARNRE = regexp.MustCompile(`^arn:(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b):sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`)
	storeIDRE     = regexp.MustCompile(`^d-[0-9a-f]{10}$|^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// Client calls Identity Center.
type Client struct {
	SSO   *ssoadmin.Client
	IDS   *identitystore.Client
	Org   *organizations.Client
	limit *Limiter

	InstanceARN     string
	IdentityStoreID string

	region      string
	callTimeout time.Duration

	mu      sync.Mutex
	calls   map[string]int
	psNames map[string]string // permission set ARN -> name
	dir     Directory         // nil: identitystore
}

// New builds a client from cfg and the standard AWS chain, discovering the instance and identity
// store with ListInstances when cfg does not name them.
func New(ctx context.Context, cfg Config, optFns ...func(*awsconfig.LoadOptions) error) (*Client, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := append([]func(*awsconfig.LoadOptions) error{awsconfig.WithRegion(cfg.Region)}, optFns...)
	awsCfg, err := awsconfig.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("identity_center: loading AWS configuration: %w", err)
	}
	if cfg.RoleARN != "" {
		awsCfg.Credentials = aws.NewCredentialsCache(stscreds.NewAssumeRoleProvider(sts.NewFromConfig(awsCfg), cfg.RoleARN,
			func(o *stscreds.AssumeRoleOptions) { o.RoleSessionName = "warden" }))
	}
	c, err := NewFromConfig(ctx, awsCfg, cfg)
	if err != nil {
		return nil, err
	}
	if cfg.InstanceARN != "" && cfg.IdentityStoreID != "" {
		// Nothing was asked of Identity Center yet: find out now, not at the first sync, whether it
		// answers and knows the instance.
		if err := c.Check(ctx, cfg.StartTimeout); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Check asks Identity Center, within timeout, for its instances (ListInstances), and checks the
// client's instance and identity store are among them. Its error names the endpoint, the region
// and what went wrong.
func (c *Client) Check(ctx context.Context, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	out, err := c.SSO.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		return c.startError(err, timeout)
	}
	for _, in := range out.Instances {
		if aws.ToString(in.InstanceArn) == c.InstanceARN {
			if id := aws.ToString(in.IdentityStoreId); id != c.IdentityStoreID {
				return fmt.Errorf("identity_center.identity_store_id: %s is not the identity store of instance %s (%s is)", c.IdentityStoreID, c.InstanceARN, id)
			}
			return nil
		}
	}
	return fmt.Errorf("identity_center.instance_arn: %s is not among the instances Identity Center at %s (region %s) lists", c.InstanceARN, c.endpoint(), c.region)
}

// startError says that Identity Center could not be asked at start: where, in which region, and why.
func (c *Client) startError(err error, timeout time.Duration) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("identity_center: Identity Center at %s (region %s) did not answer ListInstances within %s: %w", c.endpoint(), c.region, timeout, err)
	}
	return fmt.Errorf("identity_center: asking Identity Center at %s (region %s) for its instances (ListInstances): %w", c.endpoint(), c.region, err)
}

// endpoint is the sso-admin endpoint calls go to.
func (c *Client) endpoint() string {
	if ep := c.Endpoint(); ep != "" {
		return ep
	}
	host := "https://sso." + c.region + ".amazonaws.com"
	if strings.HasPrefix(c.region, "cn-") {
		host += ".cn"
	}
	return host
}

// NewFromConfig builds a client from an AWS config (tests build one pointing at the simulator).
func NewFromConfig(ctx context.Context, awsCfg aws.Config, cfg Config) (*Client, error) {
	cfg = cfg.WithDefaults()
	c := &Client{limit: NewLimiter(cfg.RateLimit, max(1, int(cfg.RateLimit))), calls: map[string]int{}, psNames: map[string]string{},
		region: awsCfg.Region, callTimeout: cfg.CallTimeout}
	awsCfg.Retryer = func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = 10
			o.MaxBackoff = cfg.RetryMaxBackoff
			o.Backoff = throttleBackoff{exp: retry.NewExponentialJitterBackoff(cfg.RetryMaxBackoff), timeout: cfg.CallTimeout}
			o.RateLimiter = ratelimit.None // our limiter paces calls; no client-side retry quota
			o.Retryables = append([]retry.IsErrorRetryable{retry.IsErrorRetryableFunc(noRetryPastTimeout), retry.IsErrorRetryableFunc(retryConflict)}, o.Retryables...)
		})
	}
	awsCfg.APIOptions = append(awsCfg.APIOptions, c.middleware, c.timeCalls) // the call timeout starts after the limiter lets the first attempt go
	c.SSO = ssoadmin.NewFromConfig(awsCfg)
	c.IDS = identitystore.NewFromConfig(awsCfg)
	org := awsCfg.Copy()
	if org.Region != "us-gov-west-1" && org.Region != "us-gov-east-1" && org.Region != "cn-north-1" && org.Region != "cn-northwest-1" {
		org.Region = "us-east-1" // Organizations lives in us-east-1
	}
	c.Org = organizations.NewFromConfig(org)
	c.InstanceARN, c.IdentityStoreID = cfg.InstanceARN, cfg.IdentityStoreID
	if c.InstanceARN == "" || c.IdentityStoreID == "" {
		dctx, cancel := context.WithTimeout(ctx, cfg.StartTimeout)
		defer cancel()
		if err := c.discover(dctx, cfg.StartTimeout); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// middleware waits for the shared limiter before every attempt of every call, and counts it.
func (c *Client) middleware(stack *middleware.Stack) error {
	return stack.Finalize.Add(middleware.FinalizeMiddlewareFunc("wardenRateLimit",
		func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
			if err := c.limit.Wait(ctx, laneOf(ctx)); err != nil {
				return middleware.FinalizeOutput{}, middleware.Metadata{}, err
			}
			c.mu.Lock()
			c.calls[awsmw.GetServiceID(ctx)+":"+awsmw.GetOperationName(ctx)]++
			c.mu.Unlock()
			out, md, err := next.HandleFinalize(ctx, in)
			switch ErrorCode(err) {
			case "ThrottlingException", "TooManyRequestsException":
				c.limit.Throttled()
			}
			if ids, ok := ctx.Value(requestIDsKey{}).(*RequestIDs); ok {
				if id, ok := awsmw.GetRequestIDMetadata(md); ok && id != "" {
					ids.add(id)
				}
			}
			return out, md, err
		}), middleware.After)
}

type requestIDsKey struct{}

// RequestIDs collects the AWS request ids of the calls made with a context from WithRequestIDs, for
// the audit log.
type RequestIDs struct {
	mu  sync.Mutex
	ids []string
}

// WithRequestIDs returns a context whose calls' request ids are collected in the RequestIDs.
func WithRequestIDs(ctx context.Context) (context.Context, *RequestIDs) {
	r := &RequestIDs{}
	return context.WithValue(ctx, requestIDsKey{}, r), r
}

func (r *RequestIDs) add(id string) {
	r.mu.Lock()
	r.ids = append(r.ids, id)
	r.mu.Unlock()
}

// Last is the request id of the last call answered ("" if none).
func (r *RequestIDs) Last() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.ids) == 0 {
		return ""
	}
	return r.ids[len(r.ids)-1]
}

// Endpoint is the base endpoint the clients were built with ("" for AWS's own).
func (c *Client) Endpoint() string { return aws.ToString(c.SSO.Options().BaseEndpoint) }

// Calls returns how many calls (attempts) were made per "service:operation".
func (c *Client) Calls() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.calls))
	for k, v := range c.calls {
		out[k] = v
	}
	return out
}

// TotalCalls is the number of calls made.
func (c *Client) TotalCalls() int {
	n := 0
	for _, v := range c.Calls() {
		n += v
	}
	return n
}

func (c *Client) discover(ctx context.Context, timeout time.Duration) error {
	out, err := c.SSO.ListInstances(ctx, &ssoadmin.ListInstancesInput{})
	if err != nil {
		return c.startError(err, timeout)
	}
	switch len(out.Instances) {
	case 0:
		return errors.New("identity_center: this account has no Identity Center instance (ListInstances is empty)")
	case 1:
	default:
		if c.InstanceARN == "" {
			return fmt.Errorf("identity_center.instance_arn: required: the account has %d instances", len(out.Instances))
		}
	}
	for _, in := range out.Instances {
		if c.InstanceARN == "" || aws.ToString(in.InstanceArn) == c.InstanceARN {
			c.InstanceARN = aws.ToString(in.InstanceArn)
			if c.IdentityStoreID == "" {
				c.IdentityStoreID = aws.ToString(in.IdentityStoreId)
			}
			return nil
		}
	}
	return fmt.Errorf("identity_center.instance_arn: %s is not among this account's instances", c.InstanceARN)
}

// ErrorCode is the AWS error code of err ("ThrottlingException"), or "".
// throttleBackoff retries a throttled call soon the first two times: every attempt waits for warden's
// own limiter anyway, so a throttle is mostly Identity Center's bucket and warden's disagreeing by a
// few milliseconds, and an expiry's deletion must not sit out a long backoff for it. Throttles that
// persist (other callers sharing the quota) and other errors back off exponentially.
// No backoff outlasts the call's remaining time (CallTimeout): the attempt after it would not be made.
type throttleBackoff struct {
	exp     retry.BackoffDelayer
	timeout time.Duration
}

func (b throttleBackoff) BackoffDelay(attempt int, err error) (time.Duration, error) {
	d, derr := b.delay(attempt, err)
	if left, ok := remaining(err, b.timeout); ok && derr == nil {
		d = min(d, left)
	}
	return d, derr
}

func (b throttleBackoff) delay(attempt int, err error) (time.Duration, error) {
	if attempt <= 2 {
		switch ErrorCode(err) {
		case "ThrottlingException", "TooManyRequestsException":
			return time.Duration(50+rand.IntN(100)) * time.Millisecond, nil
		}
	}
	return b.exp.BackoffDelay(attempt, err)
}

func ErrorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// retryConflict retries a ConflictException that means "a previous write is still propagating", and
// not one that means "that already exists" (UNIQUENESS_CONSTRAINT_VIOLATION), which callers handle.
func retryConflict(err error) aws.Ternary {
	var ic *istypes.ConflictException
	if errors.As(err, &ic) {
		return aws.BoolTernary(ic.Reason != istypes.ConflictExceptionReasonUniquenessConstraintViolation)
	}
	var sc *ssotypes.ConflictException
	if errors.As(err, &sc) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}
