// Package samlidp is warden's SAML 2.0 identity provider: the one AWS IAM Identity Center trusts
// as its external identity source (docs/saml.md).
//
// It is built on crewjam/saml (IdentityProvider, for parsing and checking AuthnRequests and for
// signing) with warden's own parts: the service providers are saml_service_provider resources
// (an AuthnRequest's Issuer must be one, its AssertionConsumerServiceURL one of that provider's
// HTTP-POST ACS URLs); the signing keys are a rotatable set kept in the store (Keys); and the
// assertion is warden's (Issue), not crewjam's default one:
//
//   - the Response and the Assertion are both signed, RSA-SHA256, exclusive C14N, with the
//     active key; exactly one Assertion, never encrypted (the service provider's keys are never
//     read, so crewjam has nothing to encrypt to);
//   - NameID format emailAddress, its value exactly warden's user name (= the Identity Center
//     userName);
//   - Audience = the service provider's entity id; Recipient and Destination = the ACS URL;
//     InResponseTo = the AuthnRequest's ID (absent for IdP-initiated sign-on);
//   - bearer SubjectConfirmation with NotOnOrAfter five minutes on (ResponseWindow), Conditions
//     from 30 s before to five minutes after;
//   - AuthnStatement with SessionNotOnOrAfter = now + config saml.session_duration;
//   - attributes: only the provider's AccessControl mapping (at most 50), each single-valued.
//
// A person deleted, disabled (user spec.disabled) or, when the sync is on, not provisioned to
// Identity Center (no live sync record user:<name>) gets no assertion: Eligible says why, for
// the page they see. Every assertion issued is audited (saml.assertion: who, the service
// provider, the assertion's id; never the assertion).
//
// Requests are bounded before any parser sees them: an HTTP-Redirect query of at most 16 KiB,
// inflated to at most 64 KiB (a DEFLATE bomb stops there); an HTTP-POST form of at most
// 128 KiB; any document type declaration or entity is refused.
//
// Figures, measured on the project's 2-core machine (shared, AMD EPYC; SQLite; RSA 2048):
//
//   - BenchmarkIssue (an AuthnRequest read and checked, the Response made, signed twice and
//     audited): 7.3-7.6 ms each, about 135 signed responses a second from one goroutine;
//     BenchmarkIssueParallel: 5.4-5.8 ms each, about 180 a second on both cores (the audit's
//     SQLite writes are serialized). The two RSA-2048 signatures are about 2.8 ms of it
//     (RSA 3072 would be about 4 times that), XML and the store the rest.
//   - BenchmarkSAMLSSO in internal/server (GET /saml/sso over HTTP for a signed-in person with a
//     second factor, page rendered): p50 5.9-7.4 ms, p99 16.8-24.6 ms over runs of 600-1,000
//     requests (target: p99 under 20 ms; the runs above it had other work on the machine).
package samlidp
