package corert

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tetratelabs/wazero/api"
)

// A module is compiled once per content, a module that does not compile
// fails with the same error every time, and nothing compiles after Close.
func TestModules(t *testing.T) {
	rt, meter, err := NewRuntime(Config{Fuel: 1000}, api.CoreFeaturesV2)
	if err != nil || meter == nil {
		t.Fatalf("metered runtime: %v, meter %v", err, meter)
	}
	defer rt.Close(context.Background()) //nolint:errcheck
	ms := NewModules(rt, true, "cannot meter the module", "invalid module")
	wasm := []byte("\x00asm\x01\x00\x00\x00") // the empty module
	a, err := ms.Compile(wasm)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := ms.Compile(append([]byte(nil), wasm...)); err != nil || b != a || ms.Len() != 1 || ms.Held() != 1 {
		t.Fatalf("second compile: %v, same %v, %d modules", err, b == a, ms.Len())
	}
	_, err1 := ms.Compile([]byte("not wasm"))
	_, err2 := ms.Compile([]byte("not wasm"))
	if err1 == nil || err1 != err2 || !strings.HasPrefix(err1.Error(), "cannot meter the module") || ms.Held() != 1 {
		t.Fatalf("junk: %v / %v, held %d", err1, err2, ms.Held())
	}
	ms.Close()
	if _, err := ms.Compile(wasm); !errors.Is(err, ErrClosed) {
		t.Fatalf("after Close: %v", err)
	}
}
