package vnet_test

import (
	"fmt"
	"io"
	"net/http"

	"github.com/wasisim/wasisim/vnet"
)

// net/http over vnet: the server serves a vnet listener and the client
// dials through Net.DialContext; no real port is opened. Inside a
// testing/synctest bubble the same code runs on the bubble's fake clock,
// so timeouts are tested without sleeping.
func ExampleNet_DialContext() {
	n := vnet.New(vnet.Options{})
	l, _ := n.Listen("tcp", "127.0.0.1:8080")
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello from %s", r.Host)
	})}
	go srv.Serve(l)
	defer srv.Close()

	client := &http.Client{Transport: &http.Transport{DialContext: n.DialContext}}
	resp, err := client.Get("http://localhost:8080/")
	if err != nil {
		fmt.Println(err)
		return
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	fmt.Println(resp.Status, string(body))
	// Output: 200 OK hello from localhost:8080
}
