<?php
// Hallway, registered as the README tells an IdP administrator to: its metadata's addresses
// and certificate, SHA-256, logout requests signed (SimpleSAMLphp does not sign them by
// default, and Hallway refuses unsigned ones), and attributes released under the urn:oid
// names Hallway's metadata asks for.
$hallway = getenv('HALLWAY_BASE_URL');
$metadata[$hallway . '/saml/metadata'] = [
    'AssertionConsumerService' => $hallway . '/saml/acs',
    'SingleLogoutService' => [[
        'Binding' => 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect',
        'Location' => $hallway . '/saml/sls',
    ]],
    'certificate' => 'hallway-sp.crt',
    'signature.algorithm' => 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256',
    'sign.logout' => true,
    'validate.authnrequest' => true,
    'NameIDFormat' => 'urn:oasis:names:tc:SAML:2.0:nameid-format:persistent',
    'simplesaml.nameidattribute' => 'uid',
    'attributes.NameFormat' => 'urn:oasis:names:tc:SAML:2.0:attrname-format:uri',
    'authproc' => [
        90 => ['class' => 'core:AttributeMap', 'name2oid'],
    ],
];
