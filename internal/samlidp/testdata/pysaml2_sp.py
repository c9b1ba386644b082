#!/usr/bin/python3
"""A pysaml2 service provider, configured from warden's IdP metadata, judging one Response.

Run with Debian's /usr/bin/python3 and python3-pysaml2 (internal/samlidp/peers_test.go):

    pysaml2_sp.py IDP_METADATA SP_ENTITY_ID ACS_URL RESPONSE_B64_FILE [IN_RESPONSE_TO]

IN_RESPONSE_TO, when given, is the one outstanding request the SP accepts a Response for (an
SP-initiated sign-on); without it the SP accepts unsolicited Responses (IdP-initiated). The SP
wants both the Response and the Assertion signed. Prints "OK <NameID format> <NameID> <attrs>" and
exits 0 when it accepts the Response, prints the reason and exits 1 when it refuses it.
"""
import json
import sys

from saml2 import BINDING_HTTP_POST
from saml2.client import Saml2Client
from saml2.config import SPConfig


def main():
    idp_metadata, sp_entity, acs, response_file = sys.argv[1:5]
    in_response_to = sys.argv[5] if len(sys.argv) > 5 else None
    conf = SPConfig()
    conf.load({
        "entityid": sp_entity,
        "xmlsec_binary": "/usr/bin/xmlsec1",
        "metadata": {"local": [idp_metadata]},
        "service": {
            "sp": {
                "endpoints": {"assertion_consumer_service": [(acs, BINDING_HTTP_POST)]},
                "allow_unsolicited": in_response_to is None,
                "want_response_signed": True,
                "want_assertions_signed": True,
                "authn_requests_signed": False,
                "name_id_format": "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            },
        },
        "accepted_time_diff": 0,
        "allow_unknown_attributes": True,
    })
    client = Saml2Client(config=conf)
    with open(response_file) as f:
        b64 = f.read().strip()
    outstanding = {in_response_to: "/"} if in_response_to else {}
    try:
        resp = client.parse_authn_request_response(b64, BINDING_HTTP_POST, outstanding=outstanding)
    except Exception as e:  # every refusal, whatever pysaml2 raises
        print("REFUSED %s: %s" % (type(e).__name__, e))
        return 1
    if resp is None:
        print("REFUSED: no response")
        return 1
    name_id = resp.assertion.subject.name_id
    print("OK %s %s %s" % (name_id.format, name_id.text, json.dumps(resp.get_identity(), sort_keys=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
