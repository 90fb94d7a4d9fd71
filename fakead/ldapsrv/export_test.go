package ldapsrv

// CapturedGoLDAP exposes the captured go-ldap PDUs (hex) to the external test package.
var CapturedGoLDAP = capturedGoLDAP
