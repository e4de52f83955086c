package check

import (
	"encoding/binary"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
)

// The kernel's socket-diagnostics interface (NETLINK_SOCK_DIAG, what
// `ss -ltn` uses) lists only the sockets in the states asked for. Asking
// for TCP listeners walks the listening hash alone, where reading even the
// first lines of /proc/net/tcp makes the kernel walk the whole (sparse,
// large) hash of established connections: milliseconds of system time per
// read.

// Sizes and values of <linux/netlink.h> and <linux/inet_diag.h>.
const (
	nlmsgHdrLen   = 16 // struct nlmsghdr
	diagReqLen    = 56 // struct inet_diag_req_v2
	diagMsgMinLen = 8  // struct inet_diag_msg up to idiag_sport
	tcpListen     = 10 // TCP_LISTEN
	tcpClose      = 7  // TCP_CLOSE: an unconnected UDP socket
	diagRecvBuf   = 32 << 10
)

// errDiagUnsupported wraps the errors after which the diag interface is
// given up for good and /proc/net read instead.
var errDiagUnsupported = errors.New("sock_diag unsupported")

// diagListeners returns the local ports of listening TCP sockets (udp
// false) or unconnected UDP sockets (udp true), IPv4 and IPv6, in this
// network namespace.
func diagListeners(udp bool) (map[int]struct{}, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, diagErr("netlink socket", err)
	}
	defer unix.Close(fd)
	// A dump always ends with NLMSG_DONE or an error; the timeout only
	// guards against a kernel that never answers.
	tv := unix.Timeval{Sec: 5}
	if err := unix.SetsockoptTimeval(fd, unix.SOL_SOCKET, unix.SO_RCVTIMEO, &tv); err != nil {
		return nil, diagErr("netlink socket", err)
	}
	proto, state := uint8(unix.IPPROTO_TCP), uint32(tcpListen)
	if udp {
		proto, state = unix.IPPROTO_UDP, tcpClose
	}
	ports := map[int]struct{}{}
	buf := make([]byte, diagRecvBuf)
	for i, family := range []uint8{unix.AF_INET, unix.AF_INET6} {
		seq := uint32(i + 1)
		req := diagRequest(family, proto, 1<<state, seq)
		if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return nil, diagErr("netlink send", err)
		}
		err := readDump(fd, buf, seq, func(port int) { ports[port] = struct{}{} })
		if family == unix.AF_INET6 && errors.Is(err, unix.ENOENT) {
			continue // kernel without IPv6
		}
		if err != nil {
			return nil, diagErr("sock_diag dump", err)
		}
	}
	return ports, nil
}

// diagErr wraps err, marking the errors that mean this kernel or sandbox
// does not offer sock_diag (no permission, no module, no protocol).
func diagErr(what string, err error) error {
	switch {
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES),
		errors.Is(err, unix.EPROTONOSUPPORT), errors.Is(err, unix.EAFNOSUPPORT),
		errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOENT),
		errors.Is(err, unix.ENOSYS):
		return fmt.Errorf("%s: %w: %w", what, errDiagUnsupported, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// diagRequest is a SOCK_DIAG_BY_FAMILY dump request: nlmsghdr followed by
// inet_diag_req_v2 asking for every socket of family and proto in states
// (a bit mask of 1<<TCP_*). The socket id is left zero: no filter.
func diagRequest(family, proto uint8, states, seq uint32) []byte {
	b := make([]byte, nlmsgHdrLen+diagReqLen)
	ne := binary.NativeEndian
	ne.PutUint32(b[0:], uint32(len(b)))
	ne.PutUint16(b[4:], unix.SOCK_DIAG_BY_FAMILY)
	ne.PutUint16(b[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	ne.PutUint32(b[8:], seq)
	r := b[nlmsgHdrLen:]
	r[0], r[1] = family, proto
	ne.PutUint32(r[4:], states)
	return b
}

// readDump receives the answer to the dump request seq and calls fn with
// the local port of each socket, until NLMSG_DONE.
func readDump(fd int, buf []byte, seq uint32, fn func(port int)) error {
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		if err != nil {
			return err
		}
		done, err := parseDump(buf[:n], seq, fn)
		if err != nil || done {
			return err
		}
	}
}

// parseDump walks the netlink messages in b. It reports done at
// NLMSG_DONE, and the kernel's error at NLMSG_ERROR. Messages of another
// sequence number are skipped.
func parseDump(b []byte, seq uint32, fn func(port int)) (done bool, err error) {
	ne := binary.NativeEndian
	for len(b) >= nlmsgHdrLen {
		l := int(ne.Uint32(b[0:]))
		if l < nlmsgHdrLen || l > len(b) {
			return false, fmt.Errorf("malformed netlink message (length %d of %d)", l, len(b))
		}
		typ, mseq := ne.Uint16(b[4:]), ne.Uint32(b[8:])
		payload := b[nlmsgHdrLen:l]
		if next := (l + unix.NLMSG_ALIGNTO - 1) &^ (unix.NLMSG_ALIGNTO - 1); next < len(b) {
			b = b[next:]
		} else {
			b = nil
		}
		if mseq != seq {
			continue
		}
		switch typ {
		case unix.NLMSG_DONE:
			return true, nil
		case unix.NLMSG_ERROR:
			if len(payload) < 4 {
				return false, errors.New("short netlink error message")
			}
			if errno := -int32(ne.Uint32(payload)); errno != 0 {
				return false, unix.Errno(errno)
			}
		case unix.SOCK_DIAG_BY_FAMILY:
			if len(payload) < diagMsgMinLen {
				return false, fmt.Errorf("short inet_diag_msg (%d bytes)", len(payload))
			}
			// inet_diag_msg: family, state, timer, retrans, then
			// inet_diag_sockid, whose idiag_sport is big-endian.
			fn(int(binary.BigEndian.Uint16(payload[4:])))
		}
	}
	return false, nil
}
