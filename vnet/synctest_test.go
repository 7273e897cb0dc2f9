package vnet_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/wasisim/wasisim/vnet"
)

// These tests run vnet's goroutine mode inside testing/synctest bubbles:
// real net/http code over the in-memory network, on the bubble's fake
// clock, with no real port and no real sleep.

// httpOver starts an http.Server for h on a vnet listener at addr and
// returns the server and a client that dials through n. The test must
// shut the server down; the client's idle connections are closed at
// cleanup.
func httpOver(t *testing.T, n *vnet.Net, addr string, h http.Handler) (*http.Server, *http.Client) {
	t.Helper()
	l, err := n.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(l) //nolint:errcheck // ErrServerClosed at shutdown
	tr := &http.Transport{DialContext: n.DialContext}
	t.Cleanup(tr.CloseIdleConnections)
	return srv, &http.Client{Transport: tr}
}

func get(c *http.Client, url string) (string, error) {
	resp, err := c.Get(url)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

func TestSynctestHTTPRoundTrip(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := vnet.New(vnet.Options{})
		srv, c := httpOver(t, n, "127.0.0.1:8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, "hello "+r.URL.Path[1:])
		}))
		defer srv.Close()
		for _, who := range []string{"ann", "bob"} { // the second reuses the connection
			body, err := get(c, "http://localhost:8080/"+who)
			if err != nil || body != "hello "+who {
				t.Fatalf("GET /%s: %q, %v", who, body, err)
			}
		}
		// The listener and the client's end of its one connection (an
		// accepted end holds no binding).
		if got := len(n.Bindings()); got != 2 {
			t.Errorf("bindings %v", n.Bindings())
		}
	})
}

// A client timeout fires on the bubble's clock: exactly when it is due,
// without the test waiting for it.
func TestSynctestClientTimeoutOnFakeClock(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := vnet.New(vnet.Options{})
		release := make(chan struct{})
		srv, c := httpOver(t, n, "127.0.0.1:8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-release
		}))
		c.Timeout = 3 * time.Second
		start := time.Now()
		_, err := get(c, "http://127.0.0.1:8080/stuck")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Fatalf("got %v, want a timeout", err)
		}
		if d := time.Since(start); d != 3*time.Second {
			t.Errorf("timed out after %v, want 3s", d)
		}
		close(release)
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
	})
}

// Shutdown lets a request in flight finish, then returns; the listener is
// gone, so a new dial is refused.
func TestSynctestShutdownWithRequestInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := vnet.New(vnet.Options{})
		srv, c := httpOver(t, n, "127.0.0.1:8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(2 * time.Second)
			io.WriteString(w, "done")
		}))
		type result struct {
			body string
			err  error
		}
		got := make(chan result, 1)
		go func() {
			body, err := get(c, "http://127.0.0.1:8080/slow")
			got <- result{body, err}
		}()
		synctest.Wait() // the handler sleeps, the client waits for its response
		start := time.Now()
		if err := srv.Shutdown(context.Background()); err != nil {
			t.Fatal(err)
		}
		if d := time.Since(start); d < 2*time.Second {
			t.Errorf("Shutdown returned after %v, before the handler finished", d)
		}
		if r := <-got; r.err != nil || r.body != "done" {
			t.Errorf("request in flight: %q, %v", r.body, r.err)
		}
		_, err := get(c, "http://127.0.0.1:8080/")
		if !errors.Is(err, syscall.ECONNREFUSED) {
			t.Errorf("after shutdown: %v, want connection refused", err)
		}
	})
}

// Close drops the connections of requests in flight: the client gets an
// error at once, not a hang, the handler sees its request cancelled, and
// nothing is left bound.
func TestSynctestCloseWithRequestInFlight(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := vnet.New(vnet.Options{})
		cancelled := make(chan error, 1)
		srv, c := httpOver(t, n, "127.0.0.1:8080", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			<-r.Context().Done()
			cancelled <- r.Context().Err()
		}))
		errc := make(chan error, 1)
		go func() {
			_, err := get(c, "http://127.0.0.1:8080/slow")
			errc <- err
		}()
		synctest.Wait()
		start := time.Now()
		if err := srv.Close(); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; err == nil {
			t.Error("request in flight succeeded after Close")
		}
		if d := time.Since(start); d != 0 {
			t.Errorf("the client saw the close after %v", d)
		}
		if err := <-cancelled; !errors.Is(err, context.Canceled) {
			t.Errorf("handler's context: %v", err)
		}
		c.CloseIdleConnections()
		synctest.Wait()
		if live := n.Live(); len(live) != 0 {
			t.Errorf("sockets left: %v", live)
		}
	})
}

// Goroutines blocked in Accept and Read are durably blocked: synctest.Wait
// returns while they wait, and they go on when a peer acts.
func TestSynctestBlockedReadAndAcceptAreDurable(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := vnet.New(vnet.Options{})
		l, err := n.Listen("tcp", "127.0.0.1:9000")
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		var accepted net.Conn
		var read string
		go func() {
			c, err := l.Accept()
			if err != nil {
				t.Error(err)
				return
			}
			accepted = c
			b, _ := io.ReadAll(c)
			read = string(b)
			c.Close()
		}()
		synctest.Wait()
		if accepted != nil {
			t.Fatal("accepted before anyone dialled")
		}
		c, err := n.Dial("tcp", "127.0.0.1:9000")
		if err != nil {
			t.Fatal(err)
		}
		synctest.Wait()
		if accepted == nil {
			t.Fatal("not accepted")
		}
		c.Write([]byte("abc"))
		synctest.Wait()
		if read != "" {
			t.Fatal("read returned before the peer closed")
		}
		c.Close()
		synctest.Wait()
		if read != "abc" {
			t.Errorf("read %q", read)
		}
	})
}

// A read deadline passes on the bubble's clock, and the error is what
// net.Conn users test for.
func TestSynctestReadDeadline(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		n := vnet.New(vnet.Options{})
		l, _ := n.Listen("tcp", "127.0.0.1:9000")
		defer l.Close()
		c, err := n.Dial("tcp", "127.0.0.1:9000")
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		s, _ := l.Accept()
		defer s.Close()
		start := time.Now()
		c.SetReadDeadline(start.Add(5 * time.Second))
		_, err = c.Read(make([]byte, 1))
		var ne net.Error
		if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("read: %v, want a deadline error", err)
		}
		if d := time.Since(start); d != 5*time.Second {
			t.Errorf("deadline after %v, want 5s", d)
		}
	})
}

// fullBacklog listens with room for one connection and fills it, so that
// the next connect waits.
func fullBacklog(t *testing.T, n *vnet.Net) net.Listener {
	t.Helper()
	l, err := n.Listen("tcp", "127.0.0.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	if err := l.(*vnet.Listener).Socket().SetListenBacklogSize(1); err != nil {
		t.Fatal(err)
	}
	c, err := n.Dial("tcp", "127.0.0.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); l.Close() })
	return l
}

func TestDialContext(t *testing.T) {
	t.Run("deadline", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := vnet.New(vnet.Options{})
			fullBacklog(t, n)
			start := time.Now()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			_, err := n.DialContext(ctx, "tcp", "127.0.0.1:9000")
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("got %v, want the context's deadline", err)
			}
			if d := time.Since(start); d != 2*time.Second {
				t.Errorf("gave up after %v, want 2s", d)
			}
			if live := n.Live(); len(live) != 3 { // the listener, both ends of the queued connection
				t.Errorf("sockets %v", live)
			}
		})
	})
	t.Run("cancel", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := vnet.New(vnet.Options{})
			fullBacklog(t, n)
			ctx, cancel := context.WithCancel(t.Context())
			errc := make(chan error, 1)
			go func() {
				_, err := n.DialContext(ctx, "tcp", "127.0.0.1:9000")
				errc <- err
			}()
			synctest.Wait()
			select {
			case err := <-errc:
				t.Fatalf("dial returned before the cancel: %v", err)
			default:
			}
			cancel()
			if err := <-errc; !errors.Is(err, context.Canceled) {
				t.Errorf("got %v, want the cancellation", err)
			}
		})
	})
	t.Run("accepted in time", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			n := vnet.New(vnet.Options{})
			l := fullBacklog(t, n)
			go func() {
				time.Sleep(time.Second)
				c, err := l.Accept()
				if err == nil {
					c.Close()
				}
			}()
			ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
			defer cancel()
			c, err := n.DialContext(ctx, "tcp", "127.0.0.1:9000")
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			// The context's deadline does not stay on the connection.
			time.Sleep(5 * time.Second)
			if _, err := c.Write([]byte("x")); err != nil {
				t.Errorf("write after the dial's deadline: %v", err)
			}
		})
	})
	t.Run("done before", func(t *testing.T) {
		n := vnet.New(vnet.Options{})
		l, _ := n.Listen("tcp", "127.0.0.1:9000")
		defer l.Close()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := n.DialContext(ctx, "tcp", "127.0.0.1:9000")
		if !errors.Is(err, context.Canceled) || !strings.HasPrefix(err.Error(), "dial tcp 127.0.0.1:9000:") {
			t.Errorf("got %v", err)
		}
		if live := n.Live(); len(live) != 1 {
			t.Errorf("sockets %v", live)
		}
	})
}

// A Net made outside a bubble serves a bubble's goroutines, and the test
// goes on using it afterwards: nothing of the bubble stays behind in it.
func TestSynctestNetOutlivesBubble(t *testing.T) {
	n := vnet.New(vnet.Options{})
	l, _ := n.Listen("tcp", "127.0.0.1:9000")
	defer l.Close()
	c, err := n.Dial("tcp", "127.0.0.1:9000")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	s, _ := l.Accept()
	defer s.Close()
	synctest.Test(t, func(t *testing.T) {
		c.SetReadDeadline(time.Now().Add(time.Second))
		if _, err := c.Read(make([]byte, 1)); !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read in the bubble: %v", err)
		}
	})
	c.SetReadDeadline(time.Time{})
	go s.Write([]byte("x"))
	b := make([]byte, 1)
	if _, err := io.ReadFull(c, b); err != nil || b[0] != 'x' {
		t.Errorf("read after the bubble: %q, %v", b, err)
	}
}
