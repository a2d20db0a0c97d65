package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"syscall"
	"time"
)

// inNetns runs fn on an OS thread moved into the network namespace at path. Sockets fn creates
// belong to that namespace for their whole life, whichever thread uses them later. The thread
// is never unlocked: a goroutine that exits while locked takes its thread with it, so no thread
// in a foreign namespace ever returns to Go's pool.
func inNetns(path string, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		f, err := os.Open(path)
		if err != nil {
			errc <- err
			return
		}
		defer f.Close()
		if _, _, e := syscall.RawSyscall(sysSetns, f.Fd(), syscall.CLONE_NEWNET, 0); e != 0 {
			errc <- fmt.Errorf("setns %s: %w", path, e)
			return
		}
		errc <- fn()
	}()
	return <-errc
}

// forward listens inside netns and connects each accepted connection from the agent's own
// namespace: it puts the API server (loopback of the test's namespace) at the same address
// inside the node's namespace, so the kubeconfig works unchanged for Felix.
func forward(netns, listen, to string) error {
	var l net.Listener
	err := inNetns(netns, func() error {
		var err error
		l, err = net.Listen("tcp", listen)
		return err
	})
	if err != nil {
		return err
	}
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				u, err := net.DialTimeout("tcp", to, 10*time.Second)
				if err != nil {
					return
				}
				defer u.Close()
				done := make(chan struct{}, 2)
				go func() { _, _ = io.Copy(u, c); done <- struct{}{} }()
				go func() { _, _ = io.Copy(c, u); done <- struct{}{} }()
				<-done
			}()
		}
	}()
	return nil
}

// httpGet fetches url from inside netns (Felix's health endpoint listens on the node's loopback).
func httpGet(netns, url string, timeoutMs int) (int, string, error) {
	if timeoutMs <= 0 {
		timeoutMs = 5000
	}
	client := &http.Client{
		Timeout: time.Duration(timeoutMs) * time.Millisecond,
		Transport: &http.Transport{
			DisableKeepAlives: true,
			DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
				var c net.Conn
				err := inNetns(netns, func() error {
					var err error
					var d net.Dialer
					c, err = d.DialContext(ctx, network, addr)
					return err
				})
				return c, err
			},
		},
	}
	resp, err := client.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	return resp.StatusCode, string(body), err
}
