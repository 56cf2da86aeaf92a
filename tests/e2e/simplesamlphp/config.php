<?php
// SimpleSAMLphp as the test IdP, on loopback: every path and address comes from the
// environment the test sets (tests/e2e/test_real_idps.py).
$dir = getenv('SSP_STATE_DIR');
$config = [
    'baseurlpath' => getenv('SSP_BASE_URL') . '/',
    'certdir' => $dir . '/',
    'loggingdir' => $dir . '/',
    'datadir' => $dir . '/',
    'tempdir' => $dir . '/tmp',
    'metadatadir' => getenv('SIMPLESAMLPHP_CONFIG_DIR') . '/metadata/',
    'attributenamemapdir' => '/etc/simplesamlphp/attributemap/',
    'secretsalt' => 'hallway-test-salt-not-secret',
    'auth.adminpassword' => 'hallway-test-admin',
    'technicalcontact_name' => 'Hallway tests',
    'technicalcontact_email' => 'tests@example.edu',
    'timezone' => 'UTC',
    'enable.saml20-idp' => true,
    'module.enable' => ['exampleauth' => true, 'core' => true, 'saml' => true, 'admin' => true],
    'logging.level' => SimpleSAML\Logger::INFO,
    'logging.handler' => 'file',
    'logging.logfile' => 'simplesamlphp.log',
    'store.type' => 'phpsession',
    'session.phpsession.savepath' => $dir . '/sessions',
    'session.cookie.secure' => false,
    'session.cookie.samesite' => null,
    'language.cookie.secure' => false,
    'language.cookie.samesite' => null,
    'production' => false,
    'showerrors' => true,
    'admin.checkforupdates' => false,
    'trusted.url.domains' => [],
    'metadata.sources' => [['type' => 'flatfile']],
    // SimpleSAMLphp's defaults, as an institution's would be: no attribute mapping here;
    // what Hallway needs is set in its own entry (metadata/saml20-sp-remote.php).
];
