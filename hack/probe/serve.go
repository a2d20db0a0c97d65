package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// servers holds the responders of each (namespace, address): what the conformance suite's
// agnhost containers listen on, answering every probe that reaches them.
type servers struct {
	mu  sync.Mutex
	all map[string][]io.Closer
}

func newServers() *servers { return &servers{all: map[string][]io.Closer{}} }

func key(netns, ip string) string { return netns + "|" + ip }

func (s *servers) serve(netns, ipText string, tcp, udp, sctp []int) error {
	ip := net.ParseIP(ipText)
	if ip == nil {
		return fmt.Errorf("bad address %q", ipText)
	}
	var closers []io.Closer
	err := inNetns(netns, func() error {
		for _, p := range tcp {
			l, err := net.Listen("tcp", net.JoinHostPort(ipText, strconv.Itoa(p)))
			if err != nil {
				return err
			}
			closers = append(closers, l)
			go acceptLoop(l)
		}
		for _, p := range udp {
			c, err := net.ListenPacket("udp", net.JoinHostPort(ipText, strconv.Itoa(p)))
			if err != nil {
				return err
			}
			closers = append(closers, c)
			go echoLoop(c)
		}
		if len(sctp) > 0 {
			r, err := newSCTPResponder(ip, sctp)
			if err != nil {
				return err
			}
			closers = append(closers, r)
		}
		return nil
	})
	if err != nil {
		for _, c := range closers {
			_ = c.Close()
		}
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	k := key(netns, ipText)
	s.all[k] = append(s.all[k], closers...)
	return nil
}

// unserve closes the responders: their sockets would otherwise keep a deleted namespace (and
// the host end of its veth) alive.
func (s *servers) unserve(netns, ip string) {
	s.mu.Lock()
	closers := s.all[key(netns, ip)]
	delete(s.all, key(netns, ip))
	s.mu.Unlock()
	for _, c := range closers {
		_ = c.Close()
	}
}

// acceptLoop completes handshakes; a connect probe only needs the SYN-ACK.
func acceptLoop(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		_ = c.Close()
	}
}

func echoLoop(c net.PacketConn) {
	buf := make([]byte, 2048)
	for {
		n, from, err := c.ReadFrom(buf)
		if err != nil {
			return
		}
		_, _ = c.WriteTo(buf[:n], from)
	}
}

type sctpResponder struct {
	fd     int
	closed atomic.Bool
	done   chan struct{}
}

func newSCTPResponder(ip net.IP, ports []int) (*sctpResponder, error) {
	fd, err := rawSCTP(ip, 200*time.Millisecond)
	if err != nil {
		return nil, err
	}
	listening := map[uint16]bool{}
	for _, p := range ports {
		listening[uint16(p)] = true
	}
	r := &sctpResponder{fd: fd, done: make(chan struct{})}
	go func() {
		defer close(r.done)
		buf := make([]byte, 2048)
		for !r.closed.Load() {
			n, _, err := syscall.Recvfrom(fd, buf, 0)
			if err != nil {
				continue // the read timeout, so closing is noticed
			}
			p, ok := parseIPv4SCTP(buf[:n])
			if !ok || p.chunk != chunkInit || !p.dst.Equal(ip) || !listening[p.dstPort] || p.initTag == 0 {
				continue
			}
			_ = sendTo(fd, initAckChunk(p.dstPort, p.srcPort, p.initTag, rand.Uint32()|1, rand.Uint32()), p.src)
		}
	}()
	return r, nil
}

func (r *sctpResponder) Close() error {
	r.closed.Store(true)
	<-r.done
	return syscall.Close(r.fd)
}
