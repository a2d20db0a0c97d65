package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"strconv"
	"syscall"
	"time"
)

// Verdicts, as the conformance suite reads agnhost's: "allow" when the exchange completed,
// "deny" when nothing came back before the timeout (Felix drops silently), and "error" for
// anything else (a refusal, a reset, a local failure): a probe that expects deny must see a
// silent drop, not a rejection.
const (
	allow = "allow"
	deny  = "deny"
	fail  = "error"
)

// resend is how often UDP and SCTP probes repeat their request within the timeout, so a lost
// packet on a busy machine is not read as a drop (TCP has the kernel's SYN retransmission).
const resend = 400 * time.Millisecond

func probe(req request) (verdict, detail string) {
	timeout := time.Duration(req.TimeoutMs) * time.Millisecond
	if timeout <= 0 {
		timeout = 3 * time.Second
	}
	src, dst := net.ParseIP(req.Src), net.ParseIP(req.Dst)
	if src == nil || dst == nil || req.Port <= 0 || req.Port > 65535 {
		return fail, fmt.Sprintf("bad probe %s -> %s:%d", req.Src, req.Dst, req.Port)
	}
	err := inNetns(req.Netns, func() error {
		switch req.Protocol {
		case "TCP":
			verdict, detail = probeTCP(src, dst, req.Port, timeout)
		case "UDP":
			verdict, detail = probeUDP(src, dst, req.Port, timeout)
		case "SCTP":
			verdict, detail = probeSCTP(src, dst, req.Port, timeout)
		default:
			verdict, detail = fail, "unknown protocol "+req.Protocol
		}
		return nil
	})
	if err != nil {
		return fail, err.Error()
	}
	return verdict, detail
}

func timedOut(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

func probeTCP(src, dst net.IP, port int, timeout time.Duration) (string, string) {
	d := net.Dialer{Timeout: timeout, LocalAddr: &net.TCPAddr{IP: src}}
	c, err := d.Dial("tcp", net.JoinHostPort(dst.String(), strconv.Itoa(port)))
	if err == nil {
		_ = c.Close()
		return allow, "connected"
	}
	if timedOut(err) {
		return deny, "no answer"
	}
	return fail, err.Error()
}

func probeUDP(src, dst net.IP, port int, timeout time.Duration) (string, string) {
	c, err := net.DialUDP("udp", &net.UDPAddr{IP: src}, &net.UDPAddr{IP: dst, Port: port})
	if err != nil {
		return fail, err.Error()
	}
	defer c.Close()
	payload := []byte(fmt.Sprintf("cnp-lab %d", rand.Uint64()))
	buf := make([]byte, 2048)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if _, err := c.Write(payload); err != nil {
			return fail, err.Error()
		}
		next := time.Now().Add(resend)
		if next.After(deadline) {
			next = deadline
		}
		_ = c.SetReadDeadline(next)
		for {
			n, err := c.Read(buf)
			if err != nil {
				if timedOut(err) {
					break
				}
				return fail, err.Error() // e.g. ICMP port unreachable: a rejection, not a drop
			}
			if bytes.Equal(buf[:n], payload) {
				return allow, "echoed"
			}
		}
	}
	return deny, "no answer"
}

func probeSCTP(src, dst net.IP, port int, timeout time.Duration) (string, string) {
	fd, err := rawSCTP(src, 50*time.Millisecond)
	if err != nil {
		return fail, err.Error()
	}
	defer syscall.Close(fd)
	srcPort := uint16(32768 + rand.IntN(28000))
	tag := rand.Uint32() | 1
	pkt := initChunk(srcPort, uint16(port), tag, rand.Uint32())
	buf := make([]byte, 2048)
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if err := sendTo(fd, pkt, dst); err != nil {
			return fail, err.Error()
		}
		next := time.Now().Add(resend)
		for time.Now().Before(next) && time.Now().Before(deadline) {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EINTR) {
					continue
				}
				return fail, os.NewSyscallError("recvfrom", err).Error()
			}
			p, ok := parseIPv4SCTP(buf[:n])
			if !ok || !p.src.Equal(dst) || p.srcPort != uint16(port) || p.dstPort != srcPort || p.vtag != tag {
				continue
			}
			switch p.chunk {
			case chunkInitAck:
				return allow, "INIT-ACK"
			case chunkAbort:
				return fail, "ABORT"
			}
		}
	}
	return deny, "no answer"
}
