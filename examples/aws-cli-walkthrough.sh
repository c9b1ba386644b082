#!/usr/bin/env bash
# The AWS CLI walkthrough against a running `warden demo` (in another terminal; if you started it
# with other addresses or another data directory, export WARDEN_ADDR and WARDEN_DATA_DIR as it
# says). As dan@example.com, a developer:
#   1. dan's AWS CLI config: the one the demo wrote for him (what `warden aws config --requestable`
#      writes, plus a services section sending sso-oidc, sso and sts to the simulator);
#   2. aws sso login: your browser opens the printed link (or open it yourself), the access portal
#      sends you to warden's sign-in: sign in as dan with the password the demo printed, then Allow;
#   3. a profile dan holds works; the production admin profile is refused;
#   4. dan asks for it with `warden request create --wait`; bob approves; the profile works;
#   5. dan cancels; the profile is refused again.
# Everything the AWS CLI writes stays in a temporary HOME, removed at the end: your ~/.aws is not
# touched. For AWS CLIs older than 2.13, which ignore the services section, the endpoints go in
# endpoint rule files there too. Overrides: WARDEN (the warden command), AWS (the AWS CLI v2).
set -euo pipefail

WARDEN=${WARDEN:-warden}
AWS=${AWS:-aws}
DAN=dan@example.com BOB=bob@example.com
STANDING=PowerUserAccess-on-development TARGET=AdministratorAccess-on-production
DATA=${WARDEN_DATA_DIR:-${XDG_STATE_HOME:-$HOME/.local/state}/warden/demo}

say() { printf '\n== %s\n' "$*"; }
die() { printf 'walkthrough: %s\n' "$*" >&2; exit 1; }

version=$("$AWS" --version 2>&1) || die "no AWS CLI ($AWS): install the AWS CLI v2, or set AWS"
[[ $version =~ ^aws-cli/2\.([0-9]+)\. ]] || die "$AWS is not the AWS CLI v2: $version"
minor=${BASH_REMATCH[1]}
[ -f "$DATA/aws/$DAN.config" ] || die "no $DATA/aws/$DAN.config: is warden demo running? (else export WARDEN_DATA_DIR)"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.aws"
cp "$DATA/aws/$DAN.config" "$tmp/.aws/config"
sim=$(sed -n 's|^sso_start_url = \(.*\)/start$|\1|p' "$tmp/.aws/config" | head -n 1)
[ -n "$sim" ] || die "no sso_start_url in $DATA/aws/$DAN.config"
if [ "$minor" -lt 13 ]; then
  for model in sso-oidc/2019-06-10 sso/2019-06-10 sts/2011-06-15; do
    mkdir -p "$tmp/.aws/models/$model"
    cat >"$tmp/.aws/models/$model/endpoint-rule-set-1.json" <<EOF
{"version": "1.0", "parameters": {"Region": {"type": "String", "builtIn": "AWS::Region", "required": false},
 "UseDualStack": {"type": "Boolean", "builtIn": "AWS::UseDualStack", "required": false},
 "UseFIPS": {"type": "Boolean", "builtIn": "AWS::UseFIPS", "required": false},
 "Endpoint": {"type": "String", "builtIn": "SDK::Endpoint", "required": false},
 "UseGlobalEndpoint": {"type": "Boolean", "builtIn": "AWS::STS::UseGlobalEndpoint", "required": false}},
 "rules": [{"conditions": [], "type": "endpoint", "endpoint": {"url": "$sim", "properties": {}, "headers": {}}}]}
EOF
  done
fi

# The AWS CLI in the temporary HOME, with none of your AWS settings, and a proxy that stops any
# HTTPS call (the demo is plain HTTP on this machine, so nothing reaches AWS).
aws() {
  env -u AWS_PROFILE -u AWS_DEFAULT_PROFILE -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY -u AWS_SESSION_TOKEN \
    -u AWS_REGION -u AWS_DEFAULT_REGION -u AWS_ENDPOINT_URL -u AWS_CA_BUNDLE -u HTTP_PROXY -u http_proxy -u ALL_PROXY -u all_proxy \
    HOME="$tmp" AWS_CONFIG_FILE="$tmp/.aws/config" AWS_SHARED_CREDENTIALS_FILE="$tmp/.aws/credentials" AWS_PAGER= \
    AWS_EC2_METADATA_DISABLED=true HTTPS_PROXY=http://127.0.0.1:9 https_proxy=http://127.0.0.1:9 "$AWS" "$@"
}
# caller PROFILE: aws sts get-caller-identity, with role credentials fetched afresh.
caller() { rm -rf "$tmp/.aws/cli/cache"; aws sts get-caller-identity --profile "$1" --output text --query Arn 2>&1; }
works() { # works PROFILE: the profile answers an assumed role of dan's.
  local out; out=$(caller "$1") || die "aws sts get-caller-identity --profile $1 failed: $out"
  [[ $out =~ ^arn:aws:sts::[0-9]{12}:assumed-role/AWSReservedSSO_[A-Za-z0-9+=,.@_-]+_[0-9a-f]{16}/$DAN$ ]] || die "--profile $1 answered $out"
  echo "$1: $out"
}
refused() { # refused PROFILE: no credentials for it.
  local out; if out=$(caller "$1"); then die "--profile $1 works: $out"; fi
  [[ $out == *ForbiddenException* ]] || die "--profile $1 failed otherwise: $out"
  echo "$1: refused (ForbiddenException: dan has no such assignment now)"
}

say "AWS CLI ${version%% *}; dan's profiles (from $DATA/aws/$DAN.config):"
aws configure list-profiles
say "aws sso login: sign in to warden as $DAN in the browser (its password is in the demo's output), then Allow"
aws sso login --profile "$STANDING"

say "what dan holds, and what he does not (yet)"
works "$STANDING"
refused "$TARGET"

say "dan asks for $TARGET and waits; $BOB approves"
dan_token=$("$WARDEN" token create --user "$DAN" --ttl 1h)
bob_token=$("$WARDEN" token create --user "$BOB" --ttl 1h)
WARDEN_TOKEN=$dan_token "$WARDEN" request create --roles "$TARGET" --reason "AWS CLI walkthrough" --duration 1h \
  -o name --wait --timeout 2m >"$tmp/request" &
waiting=$!
for _ in $(seq 100); do [ -s "$tmp/request" ] && break; sleep 0.1; done
req=$(head -n 1 "$tmp/request")
[ -n "$req" ] || die "warden request create printed no request"
WARDEN_TOKEN=$bob_token "$WARDEN" request review "$req" --approve --reason "walkthrough: go ahead"
wait "$waiting" || die "warden request create --wait exited $? (2 denied, 3 ended, 4 timed out)"
profile=$(tail -n 1 "$tmp/request")
[ "$profile" = "$TARGET" ] || die "--wait printed the profile '$profile', not $TARGET"
works "$profile"

say "dan ends his access; once Identity Center drops the assignment, the profile is refused"
WARDEN_TOKEN=$dan_token "$WARDEN" request cancel "$req"
for _ in $(seq 30); do caller "$TARGET" >/dev/null || break; sleep 1; done
refused "$TARGET"
say "done"
