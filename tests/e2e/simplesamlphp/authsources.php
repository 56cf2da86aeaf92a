<?php
$config = [
    'admin' => ['core:AdminPassword'],
    'example-userpass' => [
        'exampleauth:UserPass',
        'grace:grace-idp-pass' => [
            'uid' => ['grace'],
            'eduPersonPrincipalName' => ['ghopper@example.edu'],
            'mail' => ['grace.hopper@example.edu'],
            'displayName' => ['Grace Hopper'],
        ],
    ],
];
