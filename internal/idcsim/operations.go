package idcsim

// modelOperations are the operations AWS's models give the three services, as of the AWS SDK for
// Go v2 warden builds with (ssoadmin v1.52.3, identitystore v1.49.6, organizations v1.62.5, November
// 2026; a superset of the AWS CLI 2.9's models). One the simulator does not implement answers as AWS
// answers a caller without permission for it (AccessDeniedException, see the package doc); a target
// that is in no model answers UnknownOperationException, as AWS does.
var modelOperations = map[string][]string{
	svcSSOAdmin: {
		"AddRegion", "AttachCustomerManagedPolicyReferenceToPermissionSet",
		"AttachManagedPolicyToPermissionSet", "CreateAccountAssignment", "CreateApplication",
		"CreateApplicationAssignment", "CreateInstance",
		"CreateInstanceAccessControlAttributeConfiguration", "CreatePermissionSet",
		"CreateTrustedTokenIssuer", "DeleteAccountAssignment", "DeleteApplication",
		"DeleteApplicationAccessScope", "DeleteApplicationAssignment",
		"DeleteApplicationAuthenticationMethod", "DeleteApplicationGrant",
		"DeleteInlinePolicyFromPermissionSet", "DeleteInstance",
		"DeleteInstanceAccessControlAttributeConfiguration", "DeletePermissionSet",
		"DeletePermissionsBoundaryFromPermissionSet", "DeleteTrustedTokenIssuer",
		"DescribeAccountAssignmentCreationStatus", "DescribeAccountAssignmentDeletionStatus",
		"DescribeApplication", "DescribeApplicationAssignment", "DescribeApplicationProvider",
		"DescribeInstance", "DescribeInstanceAccessControlAttributeConfiguration",
		"DescribePermissionSet", "DescribePermissionSetProvisioningStatus", "DescribeRegion",
		"DescribeTrustedTokenIssuer", "DetachCustomerManagedPolicyReferenceFromPermissionSet",
		"DetachManagedPolicyFromPermissionSet", "GetApplicationAccessScope",
		"GetApplicationAssignmentConfiguration", "GetApplicationAuthenticationMethod",
		"GetApplicationGrant", "GetApplicationSessionConfiguration", "GetInlinePolicyForPermissionSet",
		"GetPermissionsBoundaryForPermissionSet", "ListAccountAssignmentCreationStatus",
		"ListAccountAssignmentDeletionStatus", "ListAccountAssignments",
		"ListAccountAssignmentsForPrincipal", "ListAccountsForProvisionedPermissionSet",
		"ListApplicationAccessScopes", "ListApplicationAssignments",
		"ListApplicationAssignmentsForPrincipal", "ListApplicationAuthenticationMethods",
		"ListApplicationGrants", "ListApplicationProviders", "ListApplications",
		"ListCustomerManagedPolicyReferencesInPermissionSet", "ListInstances",
		"ListManagedPoliciesInPermissionSet", "ListPermissionSetProvisioningStatus",
		"ListPermissionSets", "ListPermissionSetsProvisionedToAccount", "ListRegions",
		"ListTagsForResource", "ListTrustedTokenIssuers", "ProvisionPermissionSet",
		"PutApplicationAccessScope", "PutApplicationAssignmentConfiguration",
		"PutApplicationAuthenticationMethod", "PutApplicationGrant",
		"PutApplicationSessionConfiguration", "PutInlinePolicyToPermissionSet",
		"PutPermissionsBoundaryToPermissionSet", "RemoveRegion", "TagResource", "UntagResource",
		"UpdateApplication", "UpdateInstance", "UpdateInstanceAccessControlAttributeConfiguration",
		"UpdatePermissionSet", "UpdateTrustedTokenIssuer",
	},
	svcIdentityStore: {
		"CreateGroup", "CreateGroupMembership", "CreateUser", "DeleteGroup", "DeleteGroupMembership",
		"DeleteUser", "DescribeGroup", "DescribeGroupMembership", "DescribeIdentityStore",
		"DescribeUser", "GetGroupId", "GetGroupMembershipId", "GetUserId", "IsMemberInGroups",
		"ListGroupMemberships", "ListGroupMembershipsForMember", "ListGroups", "ListIdentityStores",
		"ListUsers", "UpdateGroup", "UpdateIdentityStore", "UpdateUser",
	},
	svcOrganizations: {
		"AcceptHandshake", "AttachPolicy", "CancelHandshake", "CloseAccount", "CreateAccount",
		"CreateGovCloudAccount", "CreateOrganization", "CreateOrganizationalUnit", "CreatePolicy",
		"DeclineHandshake", "DeleteOrganization", "DeleteOrganizationalUnit", "DeletePolicy",
		"DeleteResourcePolicy", "DeregisterDelegatedAdministrator", "DescribeAccount",
		"DescribeCreateAccountStatus", "DescribeEffectivePolicy", "DescribeHandshake",
		"DescribeOrganization", "DescribeOrganizationalUnit", "DescribePolicy", "DescribeResourcePolicy",
		"DescribeResponsibilityTransfer", "DetachPolicy", "DisableAWSServiceAccess", "DisablePolicyType",
		"EnableAWSServiceAccess", "EnableAllFeatures", "EnablePolicyType", "InviteAccountToOrganization",
		"InviteOrganizationToTransferResponsibility", "LeaveOrganization",
		"ListAWSServiceAccessForOrganization", "ListAccounts", "ListAccountsForParent",
		"ListAccountsWithInvalidEffectivePolicy", "ListChildren", "ListCreateAccountStatus",
		"ListDelegatedAdministrators", "ListDelegatedServicesForAccount",
		"ListEffectivePolicyValidationErrors", "ListHandshakesForAccount",
		"ListHandshakesForOrganization", "ListInboundResponsibilityTransfers",
		"ListOrganizationalUnitsForParent", "ListOutboundResponsibilityTransfers", "ListParents",
		"ListPolicies", "ListPoliciesForTarget", "ListRoots", "ListTagsForResource",
		"ListTargetsForPolicy", "MoveAccount", "PutResourcePolicy", "RegisterDelegatedAdministrator",
		"RemoveAccountFromOrganization", "TagResource", "TerminateResponsibilityTransfer",
		"UntagResource", "UpdateOrganizationalUnit", "UpdatePolicy", "UpdateResponsibilityTransfer",
	},
}

// modelOperation says whether op is in the service's model.
var modelOperation = func() map[string]bool {
	m := map[string]bool{}
	for service, ops := range modelOperations {
		for _, op := range ops {
			m[service+":"+op] = true
		}
	}
	return m
}()
