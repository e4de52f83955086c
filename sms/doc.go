// Package sms holds munja's message domain: messages and deliveries, Korean
// phone numbers (parsing, normalization, display) and the CP949 byte rules
// that decide between SMS and LMS. It does no I/O; stores, providers and the
// web console import it.
package sms
