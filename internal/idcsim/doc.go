// Package idcsim is an AWS IAM Identity Center simulator that speaks the real AWS wire protocol, so
// that the AWS SDK for Go, the AWS CLI and warden talk to it as to AWS: Organizations, sso-admin and
// identitystore over awsJson1_1 (POST /, routed by X-Amz-Target), and the SCIM v2 endpoint under
// /scim/v2/. It is right about AWS, not about warden: it imports nothing of warden's.
//
// One Sim is one organisation with one Identity Center instance, whose identity store is bound to
// it. State is in memory; Snapshot and Restore move it to and from JSON.
//
// # Identifiers
//
// Every id (accounts, ARNs, user, group and membership ids, request ids of asynchronous operations)
// is drawn from one generator, seeded by Options.Seed so that a fresh simulator is the same every
// time. Its state is part of the snapshot (IdGenerator): a restored simulator goes on where the
// saved one stopped, so no id is ever drawn twice however often it is stopped and started. A
// snapshot without it (written by an older simulator) restores with a generator seeded from fresh
// randomness. User, group and membership ids have the form AWS documents for ResourceId,
// "1234567890-UUID": the identity store id's ten hex digits, a dash and a random UUID.
//
// # Protocol
//
// Errors are HTTP 400 (500 for internal faults) with a JSON body {"__type": "...", "message": "..."}
// plus the members the service's model gives that exception, and no other: every identitystore
// exception carries RequestId (the answer's X-Amzn-RequestId), its ConflictException a Reason, its
// ResourceNotFoundException ResourceType and, when there is one, ResourceId (a lookup by userName,
// displayName, email or external id that finds nothing names no id), its ThrottlingException
// RetryAfterSeconds; sso-admin's exceptions carry a message only; Organizations' InvalidInputException
// and ConstraintViolationException a Reason. An internal failure is InternalServerException
// (Organizations: ServiceException). Requests without a SigV4 Authorization header are refused with
// MissingAuthenticationTokenException; the signature itself is not checked, except for temporary
// credentials the simulator issued (see "Signing in"): those are checked as STS checks them. NextToken values are
// opaque, bound to the operation and its parameters; MaxResults is checked against each operation's
// bounds (1-100; Organizations ListAccounts 1-20). Timestamps are epoch seconds, as awsJson1_1
// writes them.
//
// # Operations
//
// Implemented: sso-admin's permission sets (Create, Describe, List, Update, Delete; inline, AWS
// managed and customer managed policies; permissions boundaries; tags), provisioning
// (ProvisionPermissionSet, its status and lists, the provisioned lists), account assignments
// (Create, Delete, their status and lists, ListAccountAssignments[ForPrincipal]) and instances
// (ListInstances, DescribeInstance); every identitystore operation on users, groups and
// memberships; Organizations' DescribeOrganization, ListRoots, ListAccounts[ForParent],
// DescribeAccount, CreateAccount, DescribeCreateAccountStatus, ListCreateAccountStatus and
// CreateOrganization. Every other operation of AWS's models (as of the AWS SDK for Go v2 warden
// builds with; see modelOperations) answers HTTP 400 AccessDeniedException naming the operation
// and saying the simulator does not implement it: what AWS answers a caller whose policy does not
// allow the call, an error every operation of the three models lists, and one no client retries.
// A target that is in no model is UnknownOperationException, as AWS answers it.
// TestDifferentialAgainstAWSModels holds every operation of the AWS CLI's models and of the SDK to
// this, and every answer to the model's shapes.
//
// Answers carry the members of AWS's current model, which is newer than the AWS CLI 2.9's: the
// identitystore's UserArn, GroupArn, MembershipArn and Revision (required members since
// identitystore's September 2026 model, with Revision as an optional precondition of UpdateUser,
// UpdateGroup, DeleteUser and DeleteGroup), users' UserStatus, CreatedAt and UpdatedAt, instances'
// Name, Status, OwnerAccountId and CreatedDate, accounts' State.
//
// A panic while a request is handled is a bug of the simulator's: the request is answered 500 (an
// InternalServerException, or a SCIM error) naming the panic and the file and line where it began,
// Stats.Panics counts it, and the simulator goes on serving.
//
// # Choices where AWS does not document the behaviour
//
//   - CreateAccountAssignment for an assignment that already exists is accepted: it returns
//     IN_PROGRESS and ends SUCCEEDED, changing nothing (idempotent).
//   - DeleteAccountAssignment for an assignment that does not exist is accepted the same way: it ends
//     SUCCEEDED, having nothing to remove.
//   - An assignment naming a permission set that does not exist fails at once with
//     ResourceNotFoundException. One naming a principal missing from the identity store, or an
//     account outside the organisation, is accepted and its operation ends FAILED with a
//     FailureReason, as AWS reports problems found while provisioning.
//   - Beyond the outstanding-creation quota (10 with AWS quotas), CreateAccountAssignment answers
//     ThrottlingException.
//   - ConflictException is what AWS's sso-admin model says it is, "a conflict with a previous
//     successful write ... did not have time to propagate", to retry: it is answered only for
//     conditions that pass by themselves (an injected propagation conflict, an operation in
//     progress). A condition that lasts until the caller acts is a ValidationException: a second
//     permission set of an existing name, attaching a policy already attached, deleting a
//     permission set that account assignments use. (AWS has been seen answering ConflictException
//     for the first and last; a client must not retry conflicts without bound either way.)
//   - Provisioning: the first successful assignment of a permission set in an account provisions
//     it there (its role); the deletion of the account's last assignment of it removes it, as AWS
//     removes the role with the last assignment. A change to the permission set (UpdatePermissionSet
//     and every policy or permissions boundary change) leaves each role provisioned from it behind
//     (ProvisioningStatus LATEST_PERMISSION_SET_NOT_PROVISIONED) until ProvisionPermissionSet
//     reaches that account; a new assignment does not update a role already there (AWS: "If the
//     permission set is subsequently updated, the corresponding IAM policies ... will not be updated
//     automatically"). Tags are not part of the role.
//   - ProvisionPermissionSet is asynchronous like the assignment operations: IN_PROGRESS for the
//     provisioning delay, then SUCCEEDED (read with DescribePermissionSetProvisioningStatus). A
//     second provisioning of a permission set while one to the same account (or to
//     ALL_PROVISIONED_ACCOUNTS) is in progress is a ConflictException. ALL_PROVISIONED_ACCOUNTS
//     updates every account the set is provisioned to, and answers no AccountId.
//   - ListAccountAssignmentCreationStatus, ListAccountAssignmentDeletionStatus and
//     ListPermissionSetProvisioningStatus list every operation of their kind, oldest first.
//   - A permission set's policies: AWS managed and customer managed policies share the role's 20
//     (ServiceQuotaExceededException beyond); a customer managed policy reference's Path defaults to
//     "/"; detaching a policy that is not attached is a ResourceNotFoundException; deleting the
//     inline policy or the permissions boundary when there is none succeeds, changing nothing;
//     reading a permissions boundary that is not there is a ResourceNotFoundException. A
//     permissions boundary is exactly one of CustomerManagedPolicyReference or ManagedPolicyArn.
//     Tags (on permission sets only, at most 50) are given at creation or by TagResource, which
//     replaces the value of a key already there.
//   - DeletePermissionSet refuses (ValidationException, naming an account) while an account
//     assignment uses the permission set, and answers ConflictException while only operations in
//     progress name it (an assignment being created or deleted, a provisioning); once deleted, its
//     roles are gone from every account it was provisioned to.
//   - userName and group displayName are unique, compared case-insensitively; a second one is a
//     ConflictException with Reason UNIQUENESS_CONSTRAINT_VIOLATION. So is a repeated external id,
//     and a user's email address given to another user (compared case-insensitively, whether or
//     not marked primary; through the identitystore API or SCIM, where it is 409 uniqueness): AWS
//     documents a provisioned primary email as unique per user, and GetUserId takes emails.value
//     as a unique attribute. An email is not required: the model makes Emails optional (one entry
//     when given), and the API reference marks it "Required: No".
//   - DeleteUser and DeleteGroup also delete their group memberships; assignments that name a
//     deleted principal stay until deleted (AWS shows them with a dangling principal).
//   - Organizations: the simulator's caller is the management account of an organization that
//     exists, so CreateOrganization answers AlreadyInOrganizationException. CreateAccount is
//     asynchronous like AWS's: IN_PROGRESS for the provisioning delay, then SUCCEEDED with a new
//     12-digit account under the root (ACTIVE, joined by CREATED), or FAILED with
//     EMAIL_ALREADY_EXISTS when an account already has the email address (compared
//     case-insensitively). RoleName, IamUserAccessToBilling and Tags are checked and not kept.
//     ListCreateAccountStatus lists requests oldest first.
//   - A member that an input structure does not have in AWS's model is ignored, wherever it is: a
//     PhoneNumbers or Addresses entry {"": "x"} is an entry with none of its members given. A
//     member of the wrong JSON type is a SerializationException.
//   - A user's PhoneNumbers and Addresses follow what AWS documents (Identity Store API reference:
//     CreateUser, PhoneNumber, Address): one entry at most ("Fixed number of 1 item"), and each
//     string member given is 1 to 1024 characters, else ValidationException (the character pattern
//     is not checked). An entry with no member given is accepted and kept: every member is
//     optional.
//   - Over SCIM, a sub-attribute of phoneNumbers or addresses given as "" is taken as not given (the
//     identity store holds no empty strings), and every value is shown with its primary (false
//     when not given), as emails are.
//   - An UpdateUser or UpdateGroup operation's AttributeValue is at most 64 KiB of JSON
//     (ValidationException): no attribute comes near it, and a value of megabytes of lists would
//     cost the simulator tens of times its size to decode.
//
// # SAML sign-in and the access portal
//
// The simulator is Identity Center's side of a SAML trust with an external IdP (saml.go, portal.go).
// The identity source setting, for which AWS has no public API, is SetIdPMetadata, PUT
// /_sim/saml/idp-metadata and warden sim --idp-metadata; Identity Center's SP metadata is
// SPMetadata and GET /_sim/saml/sp-metadata; Endpoints gives the issuer URL
// (BASE/platform/saml/<identity store id>), the ACS (BASE/platform/saml/acs/<tenant id>) and the
// start URL (BASE/start), BASE being Options.PublicURL or the request's host. Signatures are
// checked with goxmldsig directly, not through crewjam/saml (warden's IdP); crewjam signs through
// goxmldsig, so that code is shared, and TestACSXmlsec1Signed has the ACS take a Response signed by
// xmlsec1, an implementation of its own. What AWS documents is followed (../shared/AWS-REFERENCE.md: one
// unencrypted assertion, emailAddress NameID equal to a provisioned userName, RSA-SHA256, Recipient
// = Destination = ACS, Audience = issuer, IdP- and SP-initiated sign-in, SessionNotOnOrAfter,
// metadata of at most 75,000 characters without an encryption key). Choices where AWS documents
// nothing:
//
//   - Clock skew: one minute either way, on every time of a Response, from Options.Now. An
//     AuthnRequest may be answered for 15 minutes, once. The bearer confirmation's NotOnOrAfter is
//     required (the SAML Web SSO profile requires it); Conditions' times are checked when present;
//     an IssueInstant in the future is refused. The IdP's certificate must be within its validity
//     (goxmldsig checks it).
//   - Wrapping: exactly one Assertion element in the whole document (an Advice holding one is
//     refused too), as a child of the Response; no ID twice; a ds:Signature that is a child of the
//     element it signs and references it by ID, with one Reference; after verification only the
//     signed bytes, canonicalised and parsed again, are read.
//   - The NameID is its whole text, trimmed of XML white space; it must be an addr-spec and equal,
//     case included, to the user's userName (AWS: "exactly equal"); a disabled user is refused.
//   - AuthnRequests are unsigned (the SP metadata's AuthnRequestsSigned="false"), sent by
//     HTTP-Redirect, or by an HTTP-POST page when the IdP offers only that. After a sign-in the ACS
//     redirects (303) to the start URL, or, for a request made when an anonymous visitor opened the
//     device verification page or the authorization endpoint, back to that page: the simulator keeps
//     the path with the request (it also sends it as RelayState, and ignores the RelayState that
//     comes back).
//   - Error pages: HTTP 400 with the headline AWS documents, "It's not you, it's us" for every fault
//     of the Response or the trust, "An unexpected error has occurred" for a user missing, disabled
//     or named in another case, and the reason under it (AWS writes reasons to CloudTrail's
//     ExternalIdPDirectoryLogin event only; the wording of reasons is the simulator's, except
//     "Response contains invalid name id policy format", seen in CloudTrail). Sign-in events are
//     kept (the last 100 to 200) at GET /_sim/saml/events.
//   - The portal's session cookie is x-amz-sso_authn (HttpOnly, SameSite=Lax, Secure on https, 32
//     random bytes, the session kept server-side) and lasts Identity Center's default 8 hours,
//     shortened by SessionNotOnOrAfter; it ends at sign-out (POST /start/signout) or when its user
//     is deleted, disabled or renamed. Sessions, AuthnRequests and used assertion ids are in memory
//     only, not in snapshots: a restarted simulator has signed everyone out.
//   - The portal lists, per account, the permission sets of the account assignments of the user
//     and of the groups the user belongs to, read at each request.
//
// # Signing in: SSO OIDC, the portal API and STS
//
// The services the AWS CLI's and SDKs' SSO sign-in use, on the same endpoint (ssooidc.go,
// portalapi.go, sts.go; docs/simulator.md has the tables): SSO OIDC at POST /client/register,
// /device_authorization and /token (restJson1, unsigned; errors HTTP 400, InvalidClientException
// 401, InternalServerException 500, with a body {"error", "error_description"} and the exception's
// name in x-amzn-ErrorType, where the AWS CLI 2.9 reads it); the portal's device verification page
// (GET /start/device, ?user_code= prefilled, then a consent page, POSTs carrying the portal
// session's CSRF token) and authorization endpoint (GET /authorize, PKCE S256 only), both behind
// SAML sign-in; the portal API at GET /assignment/accounts, /assignment/roles,
// /federation/credentials and POST /logout (bearer token x-amz-sso_bearer_token, query parameters
// read by name, errors {"message"} with x-amzn-ErrorType); STS at POST / with a form body and no
// X-Amz-Target (awsQuery, XML answers and ErrorResponse errors). Choices where AWS documents nothing:
//
//   - Clients: registration lasts 90 days (clientSecretExpiresAt, as AWS); clientType must be
//     public; at most 25 scopes and 10 redirect URIs (https, or http on a loopback host). Without
//     grantTypes a client may use the device code and refresh grants; with them, only those; the
//     authorization code grant needs redirectUris, and a loopback redirect URI matches on any port
//     (RFC 8252 §7.3).
//   - Device authorization: device codes of 64 random base64url characters; user codes XXXX-XXXX
//     of 20 consonants (RFC 8628 §6.1), typed in any case, dash and spaces optional; expiresIn 600
//     and interval 1 (as AWS). The first CreateToken answers AuthorizationPendingException; a poll
//     sooner than the interval after the previous one SlowDownException, adding 5 s to the interval;
//     after expiry ExpiredTokenException; a denial AccessDeniedException; a used or unknown code
//     InvalidGrantException. A portal session may enter 10 wrong codes; then it is refused.
//   - Tokens: an access token lasts 8 hours (Identity Center's default session) and never beyond
//     the portal session it was approved in (itself 8 hours, or the assertion's
//     SessionNotOnOrAfter). A refresh token is issued to clients registered with scopes (an
//     sso-session configuration) and by the code grant (a legacy registration gets none, as with
//     AWS); it is valid until that same session's end, and each use spends it and answers a new one
//     (rotation). An authorization code is single use, valid 5 minutes; a wrong verifier spends it.
//     Logout revokes the access token and its refresh chain; role credentials already issued and
//     the browser's portal session stay. A user deleted, disabled or renamed has every token refused.
//   - Portal API: pages of 20 unless max_result (1 to 100) says otherwise, next tokens opaque and
//     bound to the user and list; ListAccountRoles for an account the user has nothing in answers an
//     empty list; GetRoleCredentials for a role the user holds no assignment of answers 403
//     ForbiddenException "No access" (what AWS answers); a bad token 401 UnauthorizedException.
//   - Role credentials: access key ASIA + 16 characters of [A-Z2-7], secret 40 base64 characters;
//     they expire after the permission set's session duration (PT1H when unset), to the second. The
//     role is AWSReservedSSO_<permission set>_<16 hex> under /aws-reserved/sso.amazonaws.com/<region>/,
//     its 16 hex stable per account × permission set, its id AROA + 17 characters per role ARN.
//   - STS checks SigV4 (canonical request, scope, derived key) for credentials the simulator issued,
//     with their secret, their session token, and their expiry on the simulator's clock; the
//     request's time is not held to that clock (tests move it by hours). A key beginning ASIA that it
//     did not issue is InvalidClientTokenId; any other key is the organisation's long-term
//     credentials (no IAM users here), its signature unchecked, its caller identity the management
//     account's root. The same check applies to issued credentials signing the JSON APIs
//     (UnrecognizedClientException, InvalidSignatureException, ExpiredTokenException). AssumeRole
//     takes a role in an account of the organisation, or only Options.RoleARNs when given;
//     DurationSeconds 900 to 3600 (a role's default maximum), default 3600.
//   - Calls are counted in Stats.Calls (sso-oidc:..., sso:..., sts:...) and take CallLatency; the
//     injected ThrottleRate applies to the portal API (TooManyRequestsException, 429) and STS
//     (Throttling), whose models have a throttling error; the collective CallRate does not apply:
//     it is the administration APIs' quota.
//   - Clients, codes, tokens and issued credentials are in memory only, not in snapshots, each
//     table bounded (50,000 entries; expired ones dropped first).
//
// # Quotas and faults
//
// All off by default. Options can set a collective token bucket over every Identity Center call
// (AWS: 20 per second), a cap on outstanding assignment creations (AWS: 10), provisioning latency
// (how long an assignment operation, a provisioning or an account creation stays IN_PROGRESS),
// per-call latency, and probabilities of ThrottlingException, of FAILED assignment operations, and
// of ConflictException on a write to something written within the last second (propagation).
// AWSQuotas gives AWS's numbers.
package idcsim
