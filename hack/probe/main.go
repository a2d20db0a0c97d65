// Command cnp-lab-probe is the packet side of the real-Felix lab (test/engines/calico): it serves
// the conformance pods' ports inside their network namespaces, sends probes with real packets
// (TCP connect, UDP request/response, SCTP INIT -> INIT-ACK over raw sockets, since the test
// kernel has no SCTP sockets), forwards the API server into the node's namespace and fetches
// Felix's health endpoint from inside it. Node.js cannot enter network namespaces or open raw
// sockets, hence this small program.
//
// It speaks JSON lines: one request per line on stdin, one response per line on stdout, matched
// by "id". Requests run concurrently. It exits when stdin closes, so every socket it holds (and
// with them the namespaces' last references) goes away with the test process.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"sync"
)

type request struct {
	ID    int    `json:"id"`
	Op    string `json:"op"`
	Netns string `json:"netns"`
	// serve / unserve
	IP   string `json:"ip,omitempty"`
	TCP  []int  `json:"tcp,omitempty"`
	UDP  []int  `json:"udp,omitempty"`
	SCTP []int  `json:"sctp,omitempty"`
	// probe
	Src       string `json:"src,omitempty"`
	Dst       string `json:"dst,omitempty"`
	Port      int    `json:"port,omitempty"`
	Protocol  string `json:"protocol,omitempty"`
	TimeoutMs int    `json:"timeoutMs,omitempty"`
	// forward: listen inside Netns, connect from the agent's own namespace
	Listen string `json:"listen,omitempty"`
	To     string `json:"to,omitempty"`
	// http: GET inside Netns
	URL string `json:"url,omitempty"`
}

type response struct {
	ID     int    `json:"id"`
	OK     bool   `json:"ok"`
	Error  string `json:"error,omitempty"`
	Result string `json:"result,omitempty"`
	Detail string `json:"detail,omitempty"`
	Status int    `json:"status,omitempty"`
	Body   string `json:"body,omitempty"`
}

func main() {
	out := json.NewEncoder(os.Stdout)
	var mu sync.Mutex
	reply := func(r response) {
		mu.Lock()
		defer mu.Unlock()
		_ = out.Encode(r)
	}
	servers := newServers()
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 1<<20), 1<<20)
	reply(response{ID: 0, OK: true, Result: "ready"})
	for in.Scan() {
		var req request
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			reply(response{ID: -1, Error: fmt.Sprintf("bad request: %v", err)})
			continue
		}
		go func(req request) {
			r := handle(servers, req)
			r.ID = req.ID
			reply(r)
		}(req)
	}
	// stdin closed: the test process is gone or done; exiting closes every socket.
}

func handle(s *servers, req request) response {
	var err error
	switch req.Op {
	case "serve":
		err = s.serve(req.Netns, req.IP, req.TCP, req.UDP, req.SCTP)
	case "unserve":
		s.unserve(req.Netns, req.IP)
	case "probe":
		verdict, detail := probe(req)
		return response{OK: true, Result: verdict, Detail: detail}
	case "forward":
		err = forward(req.Netns, req.Listen, req.To)
	case "http":
		status, body, herr := httpGet(req.Netns, req.URL, req.TimeoutMs)
		if herr != nil {
			return response{Error: herr.Error()}
		}
		return response{OK: true, Status: status, Body: body}
	default:
		err = errors.New("unknown op " + req.Op)
	}
	if err != nil {
		return response{Error: err.Error()}
	}
	return response{OK: true}
}
