//go:build !linux

package check

func setDontFragment(uintptr, bool) error { return errMTUUnsupported }
