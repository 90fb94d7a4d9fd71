package ad

// lDAPDisplayNames of the attributes and classes the simulator reads and writes ([MS-ADA1..3],
// [MS-ADSC]). Each constant holds the exact name; LDAP compares them case-insensitively.
const (
	// Common attributes.
	AttrObjectClass              = "objectClass"
	AttrObjectCategory           = "objectCategory"
	AttrObjectGUID               = "objectGUID"
	AttrObjectSID                = "objectSid"
	AttrCN                       = "cn"
	AttrName                     = "name"
	AttrDistinguishedName        = "distinguishedName"
	AttrWhenCreated              = "whenCreated"
	AttrWhenChanged              = "whenChanged"
	AttrUSNChanged               = "uSNChanged"
	AttrSAMAccountName           = "sAMAccountName"
	AttrDNSHostName              = "dNSHostName"
	AttrMember                   = "member"
	AttrMemberOf                 = "memberOf"
	AttrServicePrincipalName     = "servicePrincipalName"
	AttrUserAccountControl       = "userAccountControl"
	AttrUnicodePwd               = "unicodePwd"
	AttrPwdLastSet               = "pwdLastSet"
	AttrTokenGroups              = "tokenGroups"
	AttrObjectVersion            = "objectVersion"
	AttrOperatingSystemVersion   = "operatingSystemVersion"
	AttrAdditionalDNSHostName    = "msDS-AdditionalDnsHostName"
	AttrAllowedToDelegateTo      = "msDS-AllowedToDelegateTo"
	AttrKeyVersionNumber         = "msDS-KeyVersionNumber"
	AttrReplAttributeMetaData    = "msDS-ReplAttributeMetaData"
	AttrSupportedEncryptionTypes = "msDS-SupportedEncryptionTypes"

	// gMSA attributes ([MS-ADA2] 2.380-2.382, [MS-ADTS] 3.1.1.4.5.39).
	AttrGroupMSAMembership          = "msDS-GroupMSAMembership"
	AttrManagedPassword             = "msDS-ManagedPassword"
	AttrManagedPasswordID           = "msDS-ManagedPasswordId"
	AttrManagedPasswordPreviousID   = "msDS-ManagedPasswordPreviousId"
	AttrManagedPasswordInterval     = "msDS-ManagedPasswordInterval"
	ClassGroupManagedServiceAccount = "msDS-GroupManagedServiceAccount"
	ClassManagedServiceAccount      = "msDS-ManagedServiceAccount"

	// KDS root key attributes ([MS-ADSC] 2.159, [MS-ADA2]).
	AttrKdsVersion                    = "msKds-Version"
	AttrKdsRootKeyData                = "msKds-RootKeyData"
	AttrKdsKDFAlgorithmID             = "msKds-KDFAlgorithmID"
	AttrKdsKDFParam                   = "msKds-KDFParam"
	AttrKdsSecretAgreementAlgorithmID = "msKds-SecretAgreementAlgorithmID"
	AttrKdsSecretAgreementParam       = "msKds-SecretAgreementParam"
	AttrKdsPublicKeyLength            = "msKds-PublicKeyLength"
	AttrKdsPrivateKeyLength           = "msKds-PrivateKeyLength"
	AttrKdsDomainID                   = "msKds-DomainID"
	AttrKdsCreateTime                 = "msKds-CreateTime"
	AttrKdsUseStartTime               = "msKds-UseStartTime"
	ClassKdsProvRootKey               = "msKds-ProvRootKey"
	ClassKdsProvServerConfiguration   = "msKds-ProvServerConfiguration"
)
