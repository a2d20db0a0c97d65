package main

import (
	"encoding/binary"
	"errors"
	"hash/crc32"
	"net"
	"syscall"
	"time"
)

// SCTP over raw IPv4 sockets: just enough of RFC 9260 for an association's first exchange
// (INIT -> INIT-ACK), which is what a connection probe needs and what netfilter's conntrack and
// port matches look at. The kernel builds the IP header (no IP_HDRINCL); received packets come
// with it.

const (
	protoSCTP     = 132
	chunkInit     = 1
	chunkInitAck  = 2
	chunkAbort    = 6
	sctpHeaderLen = 12
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// withChecksum fills in the CRC32c, which conntrack verifies: a packet with a bad one is
// INVALID and Felix drops INVALID packets, so every probe would look denied.
func withChecksum(pkt []byte) []byte {
	binary.LittleEndian.PutUint32(pkt[8:12], 0)
	binary.LittleEndian.PutUint32(pkt[8:12], crc32.Checksum(pkt, castagnoli))
	return pkt
}

func header(srcPort, dstPort uint16, vtag uint32, chunkLen int) []byte {
	pkt := make([]byte, sctpHeaderLen+chunkLen)
	binary.BigEndian.PutUint16(pkt[0:], srcPort)
	binary.BigEndian.PutUint16(pkt[2:], dstPort)
	binary.BigEndian.PutUint32(pkt[4:], vtag)
	return pkt
}

// initChunk is an INIT (verification tag 0, as RFC 9260 requires) offering initTag.
func initChunk(srcPort, dstPort uint16, initTag, tsn uint32) []byte {
	pkt := header(srcPort, dstPort, 0, 20)
	c := pkt[sctpHeaderLen:]
	c[0] = chunkInit
	binary.BigEndian.PutUint16(c[2:], 20)
	binary.BigEndian.PutUint32(c[4:], initTag)
	binary.BigEndian.PutUint32(c[8:], 65535) // a_rwnd
	binary.BigEndian.PutUint16(c[12:], 1)    // outbound streams
	binary.BigEndian.PutUint16(c[14:], 1)    // inbound streams
	binary.BigEndian.PutUint32(c[16:], tsn)
	return withChecksum(pkt)
}

// initAckChunk answers an INIT: its verification tag is the peer's initiate tag (conntrack
// checks that), and it carries the mandatory State Cookie.
func initAckChunk(srcPort, dstPort uint16, peerTag, ownTag, tsn uint32) []byte {
	const cookieLen = 12
	pkt := header(srcPort, dstPort, peerTag, 20+cookieLen)
	c := pkt[sctpHeaderLen:]
	c[0] = chunkInitAck
	binary.BigEndian.PutUint16(c[2:], 20+cookieLen)
	binary.BigEndian.PutUint32(c[4:], ownTag)
	binary.BigEndian.PutUint32(c[8:], 65535)
	binary.BigEndian.PutUint16(c[12:], 1)
	binary.BigEndian.PutUint16(c[14:], 1)
	binary.BigEndian.PutUint32(c[16:], tsn)
	p := c[20:]
	binary.BigEndian.PutUint16(p[0:], 7) // State Cookie
	binary.BigEndian.PutUint16(p[2:], cookieLen)
	copy(p[4:], "cnp-lab!")
	return withChecksum(pkt)
}

type sctpPacket struct {
	src, dst         net.IP
	srcPort, dstPort uint16
	vtag             uint32
	chunk            byte
	initTag          uint32 // of an INIT or INIT-ACK
}

// parseIPv4SCTP reads what a raw socket returns: the IPv4 header, then SCTP.
func parseIPv4SCTP(b []byte) (sctpPacket, bool) {
	if len(b) < 20 || b[0]>>4 != 4 {
		return sctpPacket{}, false
	}
	ihl := int(b[0]&0x0f) * 4
	if b[9] != protoSCTP || len(b) < ihl+sctpHeaderLen+4 {
		return sctpPacket{}, false
	}
	s := b[ihl:]
	p := sctpPacket{
		src:     net.IP(append([]byte(nil), b[12:16]...)),
		dst:     net.IP(append([]byte(nil), b[16:20]...)),
		srcPort: binary.BigEndian.Uint16(s[0:]),
		dstPort: binary.BigEndian.Uint16(s[2:]),
		vtag:    binary.BigEndian.Uint32(s[4:]),
		chunk:   s[12],
	}
	if (p.chunk == chunkInit || p.chunk == chunkInitAck) && len(s) >= sctpHeaderLen+8 {
		p.initTag = binary.BigEndian.Uint32(s[16:])
	}
	return p, true
}

// rawSCTP opens a raw SCTP socket bound to ip (in the calling thread's namespace). Reads time
// out after readTimeout so loops can notice deadlines and closing.
func rawSCTP(ip net.IP, readTimeout time.Duration) (int, error) {
	v4 := ip.To4()
	if v4 == nil {
		return -1, errors.New("SCTP probes are IPv4 only: " + ip.String())
	}
	fd, err := syscall.Socket(syscall.AF_INET, syscall.SOCK_RAW, protoSCTP)
	if err != nil {
		return -1, err
	}
	sa := &syscall.SockaddrInet4{}
	copy(sa.Addr[:], v4)
	if err := syscall.Bind(fd, sa); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	tv := syscall.NsecToTimeval(readTimeout.Nanoseconds())
	if err := syscall.SetsockoptTimeval(fd, syscall.SOL_SOCKET, syscall.SO_RCVTIMEO, &tv); err != nil {
		syscall.Close(fd)
		return -1, err
	}
	return fd, nil
}

func sendTo(fd int, pkt []byte, ip net.IP) error {
	sa := &syscall.SockaddrInet4{}
	copy(sa.Addr[:], ip.To4())
	return syscall.Sendto(fd, pkt, 0, sa)
}
