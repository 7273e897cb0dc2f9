;; netpeer: one WASI 0.3 component playing either side of three small
;; protocols over wasi:sockets, chosen by its first argument, to run
;; several guests in one world (wasisim run --with …):
;;
;;   greet-server       listens on 127.0.0.1:8080, accepts one client and
;;                      sends it "hello " and "world\n" as two writes
;;   greet-client       connects to 127.0.0.1:8080 (retrying while nobody
;;                      listens yet), reads once and prints "got: " and
;;                      what it read. The bug: one read need not return
;;                      the whole greeting; exploring the two guests
;;                      finds the schedules where it does not.
;;   rt-server N        on 127.0.0.1:8081 accepts N connections, reads one
;;                      byte from each and answers with it
;;   rt-client N        N times: connect, send a byte, read the answer
;;   bulk-server N      on 127.0.0.1:8082 accepts one connection and reads
;;                      until its end: exactly N × 64 KiB must arrive
;;   bulk-client N      connects and sends N × 64 KiB
;;
;; Any failure other than greet-client's connect giving up is
;; `unreachable` (a trap). Built with: jco parse netpeer.wat -o netpeer.wasm
(component
  (import "wasi:sockets/types@0.3.0" (instance $sock
    (export "tcp-socket" (type $ts (sub resource)))
    (type $ec (enum "access-denied" "not-supported" "invalid-argument" "out-of-memory" "timeout" "invalid-state"
      "address-not-bindable" "address-in-use" "remote-unreachable" "connection-refused" "connection-broken"
      "connection-reset" "connection-aborted" "datagram-too-large"))
    (export "error-code" (type $ec-t (eq $ec)))
    (type $fam (enum "ipv4" "ipv6"))
    (export "ip-address-family" (type $fam-t (eq $fam)))
    (type $v4 (tuple u8 u8 u8 u8))
    (type $v4sa (record (field "port" u16) (field "address" $v4)))
    (type $sa (variant (case "ipv4" $v4sa)))
    (export "ip-socket-address" (type $sa-t (eq $sa)))
    (type $own (own $ts))
    (type $borrow (borrow $ts))
    (type $create-res (result $own (error $ec-t)))
    (export "[static]tcp-socket.create" (func (param "address-family" $fam-t) (result $create-res)))
    (type $unit-res (result (error $ec-t)))
    (export "[method]tcp-socket.bind" (func (param "self" $borrow) (param "local-address" $sa-t) (result $unit-res)))
    (export "[method]tcp-socket.connect" (func async (param "self" $borrow) (param "remote-address" $sa-t) (result $unit-res)))
    (type $accepts (stream $own))
    (type $listen-res (result $accepts (error $ec-t)))
    (export "[method]tcp-socket.listen" (func (param "self" $borrow) (result $listen-res)))
    (type $bytes (stream u8))
    (type $fut (future $unit-res))
    (export "[method]tcp-socket.send" (func (param "self" $borrow) (param "data" $bytes) (result $fut)))
    (type $recv (tuple $bytes $fut))
    (export "[method]tcp-socket.receive" (func (param "self" $borrow) (result $recv)))
  ))
  (import "wasi:cli/environment@0.3.0" (instance $env
    (type $args (list string))
    (export "get-arguments" (func (result $args)))
  ))
  (import "wasi:cli/stdout@0.3.0" (instance $stdout
    (type $s (stream u8))
    (type $r (result))
    (type $f (future $r))
    (export "write-via-stream" (func (param "data" $s) (result $f)))
  ))
  (import "wasi:clocks/monotonic-clock@0.3.0" (instance $clock
    (export "wait-for" (func async (param "how-long" u64)))
  ))

  (core module $libc
    (memory (export "mem") 3)
    (global $bump (mut i32) (i32.const 4096))
    (func (export "realloc") (param i32 i32 i32 i32) (result i32)
      (local $p i32)
      (local.set $p (i32.and (i32.add (global.get $bump) (i32.sub (local.get 2) (i32.const 1))) (i32.sub (i32.const 0) (local.get 2))))
      (global.set $bump (i32.add (local.get $p) (local.get 3)))
      (if (i32.gt_u (global.get $bump) (i32.const 131072)) (then unreachable))
      (local.get $p))
  )
  (core instance $libc (instantiate $libc))
  (alias core export $libc "mem" (core memory $mem))
  (alias core export $libc "realloc" (core func $realloc))

  (alias export $sock "tcp-socket" (type $tcp))
  (alias export $sock "error-code" (type $ec))
  (type $own (own $tcp))
  (type $unit-res (result (error $ec)))
  (type $fut (future $unit-res))
  (type $bytes (stream u8))
  (type $accepts (stream $own))
  (type $ores (result))
  (type $ofut (future $ores))

  (alias export $sock "[static]tcp-socket.create" (func $create))
  (alias export $sock "[method]tcp-socket.bind" (func $bind))
  (alias export $sock "[method]tcp-socket.connect" (func $connect))
  (alias export $sock "[method]tcp-socket.listen" (func $listen))
  (alias export $sock "[method]tcp-socket.send" (func $send))
  (alias export $sock "[method]tcp-socket.receive" (func $receive))
  (alias export $env "get-arguments" (func $get-args))
  (alias export $stdout "write-via-stream" (func $stdout-write))
  (alias export $clock "wait-for" (func $wait-for))

  (core func $create-l (canon lower (func $create) (memory $mem)))
  (core func $bind-l (canon lower (func $bind) (memory $mem)))
  (core func $connect-l (canon lower (func $connect) (memory $mem)))
  (core func $listen-l (canon lower (func $listen) (memory $mem)))
  (core func $send-l (canon lower (func $send)))
  (core func $receive-l (canon lower (func $receive) (memory $mem)))
  (core func $args-l (canon lower (func $get-args) (memory $mem) (realloc $realloc)))
  (core func $stdout-l (canon lower (func $stdout-write)))
  (core func $wait-l (canon lower (func $wait-for)))
  (core func $sock-drop (canon resource.drop $tcp))
  (core func $bytes-new (canon stream.new $bytes))
  (core func $bytes-read (canon stream.read $bytes (memory $mem)))
  (core func $bytes-write (canon stream.write $bytes (memory $mem)))
  (core func $bytes-drop-r (canon stream.drop-readable $bytes))
  (core func $bytes-drop-w (canon stream.drop-writable $bytes))
  (core func $accepts-read (canon stream.read $accepts (memory $mem)))
  (core func $accepts-drop-r (canon stream.drop-readable $accepts))
  (core func $fut-read (canon future.read $fut (memory $mem)))
  (core func $fut-drop-r (canon future.drop-readable $fut))
  (core func $ofut-read (canon future.read $ofut (memory $mem)))
  (core func $ofut-drop-r (canon future.drop-readable $ofut))
  (type $run-result (result))
  (core func $task-return (canon task.return (result $run-result)))
  (core instance $h
    (export "create" (func $create-l))
    (export "bind" (func $bind-l))
    (export "connect" (func $connect-l))
    (export "listen" (func $listen-l))
    (export "send" (func $send-l))
    (export "receive" (func $receive-l))
    (export "args" (func $args-l))
    (export "stdout" (func $stdout-l))
    (export "wait-for" (func $wait-l))
    (export "sock-drop" (func $sock-drop))
    (export "bytes-new" (func $bytes-new))
    (export "bytes-read" (func $bytes-read))
    (export "bytes-write" (func $bytes-write))
    (export "bytes-drop-r" (func $bytes-drop-r))
    (export "bytes-drop-w" (func $bytes-drop-w))
    (export "accepts-read" (func $accepts-read))
    (export "accepts-drop-r" (func $accepts-drop-r))
    (export "fut-read" (func $fut-read))
    (export "fut-drop-r" (func $fut-drop-r))
    (export "ofut-read" (func $ofut-read))
    (export "ofut-drop-r" (func $ofut-drop-r))
    (export "task-return" (func $task-return))
  )

  (core module $main
    (import "libc" "mem" (memory 3))
    (import "h" "create" (func $create (param i32 i32)))
    (import "h" "bind" (func $bind (param i32 i32 i32 i32 i32 i32 i32 i32)))
    (import "h" "connect" (func $connect (param i32 i32 i32 i32 i32 i32 i32 i32)))
    (import "h" "listen" (func $listen (param i32 i32)))
    (import "h" "send" (func $send (param i32 i32) (result i32)))
    (import "h" "receive" (func $receive (param i32 i32)))
    (import "h" "args" (func $args (param i32)))
    (import "h" "stdout" (func $stdout (param i32) (result i32)))
    (import "h" "wait-for" (func $wait-for (param i64)))
    (import "h" "sock-drop" (func $sock-drop (param i32)))
    (import "h" "bytes-new" (func $bytes-new (result i64)))
    (import "h" "bytes-read" (func $bytes-read (param i32 i32 i32) (result i32)))
    (import "h" "bytes-write" (func $bytes-write (param i32 i32 i32) (result i32)))
    (import "h" "bytes-drop-r" (func $bytes-drop-r (param i32)))
    (import "h" "bytes-drop-w" (func $bytes-drop-w (param i32)))
    (import "h" "accepts-read" (func $accepts-read (param i32 i32 i32) (result i32)))
    (import "h" "accepts-drop-r" (func $accepts-drop-r (param i32)))
    (import "h" "fut-read" (func $fut-read (param i32 i32) (result i32)))
    (import "h" "fut-drop-r" (func $fut-drop-r (param i32)))
    (import "h" "ofut-read" (func $ofut-read (param i32 i32) (result i32)))
    (import "h" "ofut-drop-r" (func $ofut-drop-r (param i32)))
    (import "h" "task-return" (func $task-return (param i32)))

    ;; Memory: 0-127 call results; 256 strings; 1019 "got: " followed by
    ;; the greeting buffer at 1024; 4096-131071 the realloc heap (the
    ;; arguments); 131072 a 64 KiB buffer.
    (data (i32.const 272) "hello ")
    (data (i32.const 288) "world\n")
    (data (i32.const 300) "x")
    (data (i32.const 1019) "got: ")
    (global $big i32 (i32.const 131072))

    (func $check (param i32) (if (i32.eqz (local.get 0)) (then unreachable)))

    ;; A stream operation's result: (progress << 4) | status; status 0 is
    ;; COMPLETED, 1 DROPPED.
    (func $progress (param i32) (result i32) (i32.shr_u (local.get 0) (i32.const 4)))
    (func $dropped (param i32) (result i32) (i32.eq (i32.and (local.get 0) (i32.const 15)) (i32.const 1)))

    (func $new-socket (result i32)
      (call $create (i32.const 0) (i32.const 0))
      (call $check (i32.eqz (i32.load8_u (i32.const 0))))
      (i32.load (i32.const 4)))

    ;; listen-on binds a new socket to 127.0.0.1:port, listens and
    ;; returns the socket and its stream of connections (packed).
    (func $listen-on (param $port i32) (result i64) (local $s i32)
      (local.set $s (call $new-socket))
      (call $bind (local.get $s) (i32.const 0) (local.get $port) (i32.const 127) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 8))
      (call $check (i32.eqz (i32.load8_u (i32.const 8))))
      (call $listen (local.get $s) (i32.const 16))
      (call $check (i32.eqz (i32.load8_u (i32.const 16))))
      (i64.or (i64.extend_i32_u (local.get $s)) (i64.shl (i64.extend_i32_u (i32.load (i32.const 20))) (i64.const 32))))

    (func $accept (param $ls i32) (result i32) (local $r i32)
      (local.set $r (call $accepts-read (local.get $ls) (i32.const 24) (i32.const 1)))
      (call $check (i32.eq (call $progress (local.get $r)) (i32.const 1)))
      (i32.load (i32.const 24)))

    ;; dial connects a new socket to 127.0.0.1:port, retrying every
    ;; millisecond while the connection is refused (nobody listens yet),
    ;; a thousand times at most. It returns the socket, or 0.
    (func $dial (param $port i32) (result i32) (local $s i32) (local $tries i32)
      (loop $again
        (local.set $s (call $new-socket))
        (call $connect (local.get $s) (i32.const 0) (local.get $port) (i32.const 127) (i32.const 0) (i32.const 0) (i32.const 1) (i32.const 32))
        (if (i32.eqz (i32.load8_u (i32.const 32))) (then (return (local.get $s))))
        (call $sock-drop (local.get $s))
        ;; error-code 9: connection-refused.
        (if (i32.ne (i32.load8_u (i32.const 33)) (i32.const 9)) (then (return (i32.const 0))))
        (local.set $tries (i32.add (local.get $tries) (i32.const 1)))
        (if (i32.ge_u (local.get $tries) (i32.const 1000)) (then (return (i32.const 0))))
        (call $wait-for (i64.const 1000000))
        (br $again))
      (i32.const 0))

    ;; write-all writes len bytes at ptr to a stream's writable end.
    (func $write-all (param $w i32) (param $ptr i32) (param $len i32) (local $r i32)
      (block $done
        (loop $more
          (br_if $done (i32.eqz (local.get $len)))
          (local.set $r (call $bytes-write (local.get $w) (local.get $ptr) (local.get $len)))
          (call $check (i32.eqz (call $dropped (local.get $r))))
          (local.set $ptr (i32.add (local.get $ptr) (call $progress (local.get $r))))
          (local.set $len (i32.sub (local.get $len) (call $progress (local.get $r))))
          (br $more))))

    ;; send-bytes sends n copies of len bytes at ptr on a socket, ends
    ;; the stream (a FIN) and waits for the send's result: ok.
    (func $send-bytes (param $s i32) (param $ptr i32) (param $len i32) (param $n i32) (local $ends i64) (local $w i32) (local $f i32)
      (local.set $ends (call $bytes-new))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (local.set $f (call $send (local.get $s) (i32.wrap_i64 (local.get $ends))))
      (block $done
        (loop $more
          (br_if $done (i32.eqz (local.get $n)))
          (call $write-all (local.get $w) (local.get $ptr) (local.get $len))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more)))
      (call $bytes-drop-w (local.get $w))
      (call $check (i32.eqz (call $fut-read (local.get $f) (i32.const 40))))
      (call $check (i32.eqz (i32.load8_u (i32.const 40))))
      (call $fut-drop-r (local.get $f)))

    ;; receive starts a socket's receive: the stream at 48, the future
    ;; at 52.
    (func $start-receive (param $s i32) (call $receive (local.get $s) (i32.const 48)))

    ;; end-receive drops the receive stream and takes its future's result.
    (func $end-receive
      (call $bytes-drop-r (i32.load (i32.const 48)))
      (call $check (i32.eqz (call $fut-read (i32.load (i32.const 52)) (i32.const 56))))
      (call $fut-drop-r (i32.load (i32.const 52))))

    (func $print (param $ptr i32) (param $len i32) (local $ends i64) (local $f i32)
      (local.set $ends (call $bytes-new))
      (local.set $f (call $stdout (i32.wrap_i64 (local.get $ends))))
      (call $write-all (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))) (local.get $ptr) (local.get $len))
      (call $bytes-drop-w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (call $check (i32.eqz (call $ofut-read (local.get $f) (i32.const 60))))
      (call $ofut-drop-r (local.get $f)))

    (func $greet-server (local $ls i64) (local $c i32) (local $ends i64) (local $w i32) (local $f i32)
      (local.set $ls (call $listen-on (i32.const 8080)))
      (local.set $c (call $accept (i32.wrap_i64 (i64.shr_u (local.get $ls) (i64.const 32)))))
      ;; The greeting goes out as two writes.
      (local.set $ends (call $bytes-new))
      (local.set $w (i32.wrap_i64 (i64.shr_u (local.get $ends) (i64.const 32))))
      (local.set $f (call $send (local.get $c) (i32.wrap_i64 (local.get $ends))))
      (call $write-all (local.get $w) (i32.const 272) (i32.const 6))
      (call $write-all (local.get $w) (i32.const 288) (i32.const 6))
      (call $bytes-drop-w (local.get $w))
      ;; Whether the client took it all is the client's business.
      (call $check (i32.eqz (call $fut-read (local.get $f) (i32.const 40))))
      (call $fut-drop-r (local.get $f))
      (call $sock-drop (local.get $c))
      (call $accepts-drop-r (i32.wrap_i64 (i64.shr_u (local.get $ls) (i64.const 32))))
      (call $sock-drop (i32.wrap_i64 (local.get $ls))))

    (func $greet-client (result i32) (local $c i32) (local $r i32)
      (local.set $c (call $dial (i32.const 8080)))
      (if (i32.eqz (local.get $c)) (then (return (i32.const 1))))
      (call $start-receive (local.get $c))
      ;; One read, as if it returned the whole greeting.
      (local.set $r (call $bytes-read (i32.load (i32.const 48)) (i32.const 1024) (i32.const 64)))
      (call $print (i32.const 1019) (i32.add (i32.const 5) (call $progress (local.get $r))))
      (call $end-receive)
      (call $sock-drop (local.get $c))
      (i32.const 0))

    (func $rt-server (param $n i32) (local $ls i64) (local $c i32)
      (local.set $ls (call $listen-on (i32.const 8081)))
      (block $done
        (loop $more
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $c (call $accept (i32.wrap_i64 (i64.shr_u (local.get $ls) (i64.const 32)))))
          (call $start-receive (local.get $c))
          (call $check (i32.eq (call $progress (call $bytes-read (i32.load (i32.const 48)) (i32.const 1024) (i32.const 1))) (i32.const 1)))
          (call $send-bytes (local.get $c) (i32.const 1024) (i32.const 1) (i32.const 1))
          (call $end-receive)
          (call $sock-drop (local.get $c))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more)))
      (call $accepts-drop-r (i32.wrap_i64 (i64.shr_u (local.get $ls) (i64.const 32))))
      (call $sock-drop (i32.wrap_i64 (local.get $ls))))

    (func $rt-client (param $n i32) (local $c i32)
      (block $done
        (loop $more
          (br_if $done (i32.eqz (local.get $n)))
          (local.set $c (call $dial (i32.const 8081)))
          (call $check (local.get $c))
          (call $start-receive (local.get $c))
          (call $send-bytes (local.get $c) (i32.const 300) (i32.const 1) (i32.const 1))
          (call $check (i32.eq (call $progress (call $bytes-read (i32.load (i32.const 48)) (i32.const 1025) (i32.const 1))) (i32.const 1)))
          (call $check (i32.eq (i32.load8_u (i32.const 1025)) (i32.const 120)))
          (call $end-receive)
          (call $sock-drop (local.get $c))
          (local.set $n (i32.sub (local.get $n) (i32.const 1)))
          (br $more))))

    (func $bulk-server (param $n i32) (local $ls i64) (local $c i32) (local $r i32) (local $total i64)
      (local.set $ls (call $listen-on (i32.const 8082)))
      (local.set $c (call $accept (i32.wrap_i64 (i64.shr_u (local.get $ls) (i64.const 32)))))
      (call $start-receive (local.get $c))
      (block $done
        (loop $more
          (local.set $r (call $bytes-read (i32.load (i32.const 48)) (global.get $big) (i32.const 65536)))
          (local.set $total (i64.add (local.get $total) (i64.extend_i32_u (call $progress (local.get $r)))))
          (br_if $done (call $dropped (local.get $r)))
          (br $more)))
      (call $check (i64.eq (local.get $total) (i64.shl (i64.extend_i32_u (local.get $n)) (i64.const 16))))
      (call $check (i32.eqz (call $fut-read (i32.load (i32.const 52)) (i32.const 56))))
      (call $check (i32.eqz (i32.load8_u (i32.const 56))))
      (call $fut-drop-r (i32.load (i32.const 52)))
      (call $bytes-drop-r (i32.load (i32.const 48)))
      (call $sock-drop (local.get $c))
      (call $accepts-drop-r (i32.wrap_i64 (i64.shr_u (local.get $ls) (i64.const 32))))
      (call $sock-drop (i32.wrap_i64 (local.get $ls))))

    (func $bulk-client (param $n i32) (local $c i32)
      (local.set $c (call $dial (i32.const 8082)))
      (call $check (local.get $c))
      (call $send-bytes (local.get $c) (global.get $big) (i32.const 65536) (local.get $n))
      (call $sock-drop (local.get $c)))

    ;; arg returns the address of argument i's (ptr, len), or 0.
    (func $arg (param $i i32) (result i32)
      (if (i32.le_u (i32.load (i32.const 68)) (local.get $i)) (then (return (i32.const 0))))
      (i32.add (i32.load (i32.const 64)) (i32.shl (local.get $i) (i32.const 3))))

    ;; count is argument 2 as a decimal number (1 if absent).
    (func $count (result i32) (local $a i32) (local $p i32) (local $end i32) (local $n i32) (local $d i32)
      (local.set $a (call $arg (i32.const 2)))
      (if (i32.eqz (local.get $a)) (then (return (i32.const 1))))
      (local.set $p (i32.load (local.get $a)))
      (local.set $end (i32.add (local.get $p) (i32.load offset=4 (local.get $a))))
      (block $done
        (loop $more
          (br_if $done (i32.ge_u (local.get $p) (local.get $end)))
          (local.set $d (i32.sub (i32.load8_u (local.get $p)) (i32.const 48)))
          (call $check (i32.lt_u (local.get $d) (i32.const 10)))
          (local.set $n (i32.add (i32.mul (local.get $n) (i32.const 10)) (local.get $d)))
          (local.set $p (i32.add (local.get $p) (i32.const 1)))
          (br $more)))
      (local.get $n))

    ;; is reports whether argument 1 is the string at ptr, of len bytes.
    (func $is (param $ptr i32) (param $len i32) (result i32) (local $a i32) (local $s i32) (local $i i32)
      (local.set $a (call $arg (i32.const 1)))
      (if (i32.eqz (local.get $a)) (then (return (i32.const 0))))
      (if (i32.ne (i32.load offset=4 (local.get $a)) (local.get $len)) (then (return (i32.const 0))))
      (local.set $s (i32.load (local.get $a)))
      (block $done
        (loop $more
          (br_if $done (i32.ge_u (local.get $i) (local.get $len)))
          (if (i32.ne (i32.load8_u (i32.add (local.get $s) (local.get $i))) (i32.load8_u (i32.add (local.get $ptr) (local.get $i))))
            (then (return (i32.const 0))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $more)))
      (i32.const 1))

    (data (i32.const 320) "greet-server")
    (data (i32.const 340) "greet-client")
    (data (i32.const 360) "rt-server")
    (data (i32.const 380) "rt-client")
    (data (i32.const 400) "bulk-server")
    (data (i32.const 420) "bulk-client")

    (func (export "run") (local $status i32)
      (call $args (i32.const 64))
      (block $chosen
        (if (call $is (i32.const 320) (i32.const 12)) (then (call $greet-server) (br $chosen)))
        (if (call $is (i32.const 340) (i32.const 12)) (then (local.set $status (call $greet-client)) (br $chosen)))
        (if (call $is (i32.const 360) (i32.const 9)) (then (call $rt-server (call $count)) (br $chosen)))
        (if (call $is (i32.const 380) (i32.const 9)) (then (call $rt-client (call $count)) (br $chosen)))
        (if (call $is (i32.const 400) (i32.const 11)) (then (call $bulk-server (call $count)) (br $chosen)))
        (if (call $is (i32.const 420) (i32.const 11)) (then (call $bulk-client (call $count)) (br $chosen)))
        unreachable)
      (call $task-return (local.get $status)))
  )
  (core instance $main (instantiate $main (with "libc" (instance $libc)) (with "h" (instance $h))))
  (type $run-t (func async (result $run-result)))
  (alias core export $main "run" (core func $run-core))
  (func $run (type $run-t) (canon lift (core func $run-core) async))
  (instance $run-inst (export "run" (func $run)))
  (export "wasi:cli/run@0.3.0" (instance $run-inst))
)
