package idcsim

// Implemented says whether the simulator implements an operation ("sso-admin", "CreatePermissionSet").
func Implemented(service, op string) bool { return handlers[service+":"+op] != nil }

// ModelOperations are the operations the simulator knows from AWS's models, per service.
func ModelOperations() map[string][]string { return modelOperations }
