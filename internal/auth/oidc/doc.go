// Package oidc signs people in through the company's identity provider (Okta, Entra ID, Google,
// Keycloak...) with OpenID Connect, as an upstream connector: one per auth.oidc item of the config
// file. The sign-in core keeps the flow; this package makes the provider's answer into one plain
// Identity (Begin, Finish) and the warden user agree with it (Sync).
//
// # The sign-in
//
// Begin makes a State of three 32-byte random values (state, nonce, PKCE verifier), kept on
// warden's flow, and the authorization URL (authorization code flow, PKCE S256, the nonce). Finish
// takes the callback's query and refuses, before anything else, a state that is not the flow's
// (compared in constant time; a missing or repeated parameter is refused too), then a callback
// naming another issuer (RFC 9207 mix-up defence: when the provider announces
// authorization_response_iss_parameter_supported, a callback without iss is refused as well), then
// an error answer. The code is exchanged with the verifier; the ID token is verified by
// github.com/coreos/go-oidc against the keys the provider publishes (only the asymmetric algorithms
// it announces; never "none" nor HMAC), for its issuer, audience (the client id) and expiry, then by
// this package for its nonce, its at_hash (when present) and its authorized party (azp must be the
// client id when present or when the token has several audiences).
//
// Expiry is judged by the clock given with WithClock (go-oidc's Config.Now), the wall clock by
// default. Claims are read from the ID token only, never from the userinfo endpoint: the provider
// must put them there (Okta, Entra ID, Google and Keycloak do for the scopes asked).
//
// # Who is admitted
//
// The user name is the claim user_name_claim (email by default), as the provider writes it (case
// kept: Identity Center compares user names without case, and warden's sync refuses two users that
// differ only in case); it must be a valid warden user name. When the email is what admits the
// person (it is the user name, or allowed_domains is set) the provider must say it verified it
// (email_verified true, or the string "true"): a provider that lets people type any email would
// otherwise let them be anyone. Entra ID sends no email_verified: use another user name claim there
// (one the directory's administrators set, not its users) and no domain list, or ask the provider
// for it. allowed_domains compares the email's domain without case; a subdomain is another domain.
// create_users requires allowed_domains: with a provider such as Google, every account in the world
// would otherwise become a warden user (and, through the sync, an Identity Center user).
//
// # Which users
//
// A user who does not exist is created at their first sign-in when create_users is set, with origin
// oidc:<connector>; otherwise they must exist (an administrator may make them beforehand, with that
// origin). A user of another origin (made in warden, imported from Identity Center, another
// connector's) is refused unless link_existing is set: an account made elsewhere is not the
// provider's to hand to whoever it says has that email. A linked user keeps their origin and their
// profile; the connector keeps the email (verified only) and names of its own users up to date.
//
// A user is bound to the provider's subject (sub) at their first sign-in through the connector,
// recorded in spec.upstream["oidc:<connector>"].subject: another account asserting the same user
// name later (an email reassigned to someone else, an impostor) is refused with ErrSubject. An
// administrator who knows the account really changed hands unbinds it by applying the user with
// spec.upstream left without the connector's record; the next sign-in binds the new subject.
//
// # What the claims grant, and take back
//
// Traits map claims to warden traits; roles and lists rules grant a standing role or an access list
// membership to those whose claim is the value or is a list holding it (compared exactly, top-level
// claims only). A rule naming a role or list that does not exist grants nothing and is logged; it
// does not stop anyone's sign-in.
//
// Every sign-in re-evaluates the rules. What the connector adds it records: the roles and trait
// values in spec.upstream["oidc:<connector>"] (those the user lacked: what they held already is not
// recorded), the memberships by their added_by, oidc:<connector>. What it recorded and the claims no
// longer grant is removed; nothing else is, so what an administrator granted by hand stays, even
// where a rule maps the same thing. The provider is authoritative for what it recorded: a role the
// connector added and an administrator removed comes back at the next sign-in while the claim
// holds; and a role an administrator grants by hand while the connector's grant of it stands is not
// a change (the user has it already), so it goes when the claim goes. A user document that leaves
// spec.upstream out keeps it (package manage), so an administrator's `warden apply` of a user file
// does not make the connector forget what it granted.
//
// Re-evaluation happens at sign-in only: someone removed from a group upstream keeps what it mapped
// until they sign in again (SCIM provisioning from the provider, or the list's review, is what
// catches someone who never does).
//
// Every write goes through package manage (validated, references checked, audited in the same
// transaction) as the actor oidc:<connector>, each audit entry's detail naming the sign-in ("sign-in
// of <user> through oidc:<connector> (subject <sub>)", followed by Sync's actor argument: the flow's
// id, say). A sign-in that changes nothing writes nothing. Concurrent writes to the user (another
// sign-in, an administrator) are caught by the store's revisions and the sync redone.
//
// # Secrets and bounds
//
// The client secret is read from the environment variable client_secret_env names, sent only to
// the provider's token endpoint, and is in no error, log line or audit entry; nor are codes, tokens
// or verifiers. The provider is reached with an HTTP client with timeouts (15 s a request unless
// WithHTTPClient sets another) that follows no redirect and reads at most 1 MiB of any response;
// its endpoints must be https (http only when the issuer itself is on a loopback address, as in
// tests). Texts from the provider in errors are cut short and made printable.
package oidc
