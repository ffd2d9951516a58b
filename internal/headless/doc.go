// Package headless runs Debian's Chromium in headless mode for tests that
// check what a person would see (the audit report, the operator's
// dashboard): the browser's DOM and screenshots. Under CI=true a missing
// browser fails the test (.ci/run installs it); elsewhere the test skips.
package headless
