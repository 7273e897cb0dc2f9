// Package scenario is the .wsim scenario language: small, line-oriented
// scripts of guest tasks calling the WASI 0.3 host (package host) on a
// deterministic world (package sim), with assertions. This comment
// summarises the language; docs/scenarios.md in the repository is its
// complete reference.
//
//	# drop-during-write.wsim: a descriptor dropped while its write goes on
//	variant p3
//	chunk 4
//	file "greeting.txt" "old"
//
//	task writer:
//	    fd = open root "out.txt" create write
//	    data, w = stream
//	    done = write-via-stream fd data
//	    drop fd                       # p3: allowed, the write keeps going
//	    write w "every byte lands"
//	    drop w
//	    r = await done
//	    expect r ok
//	    drop done
//	    expect file "out.txt" == "every byte lands"
//
// # Lines
//
// A script is lines. "#" starts a comment (outside strings). Blank lines
// are ignored. A line that starts at column 1 is a header line or a task
// header; a task's statements are the indented lines below it (any amount
// of spaces or tabs). Strings are Go string literals: "double quoted" with
// Go escapes (\n, \t, \", \\, \xNN, \u1234) or `raw`; they end on the line
// they start. Numbers are decimal; durations are Go durations (10ms, 2s);
// addresses are IP:port (127.0.0.1:8080, [::1]:80). A script is at most
// MaxSource bytes and a line at most MaxLineTokens tokens, so that parsing
// a hostile file takes bounded memory.
//
// # Header
//
//	variant p3 | p3-async-write   API shape of WASI PR #870 (default p3)
//	seed N                        default seed for "wasisim run"
//	chunk N                       bytes a host copy moves at most (default 8192)
//	max-steps N                   scheduling step limit of a run
//	file "path" ["content"]       an initial file (parent directories are made)
//	dir "path"                    an initial directory
//	task NAME [in INSTANCE]:      a task; its statements follow, indented
//
// Tasks run concurrently as world tasks; the strategy interleaves them.
// Tasks naming the same instance (default "guest") share its handle table
// and its variables; each instance starts with the variable root, its
// preopened "/" directory.
//
// # Statements
//
// A statement is "[NAME {, NAME} =] VERB ARG...". Results are variables of
// the instance. Using a variable that no statement has set yet waits until
// one does (so tasks can hand handles to each other); a variable that no
// statement of the instance ever sets is a parse error. Handles are the
// instance's handle table entries: dropping one twice is a dead-handle
// trap, as in the Component Model.
//
// Files (each call is the descriptor method of the same name):
//
//	fd = open BASE "path" [FLAG...]      flags: read write create exclusive
//	                                     truncate directory mutate follow
//	r, w = stream                        stream.new: readable and writable end
//	f = write-via-stream FD R [OFFSET]   takes R; f is a future (p3) or subtask
//	f = append-via-stream FD R
//	s, f = read-via-stream FD [OFFSET]
//	s, f = read-directory FD
//	unlink BASE "path"    mkdir BASE "path"    rmdir BASE "path"
//	rename BASE "old" "new"              set-size FD N
//	lock FD shared|exclusive             host-side flock, waits
//	[r =] trylock FD shared|exclusive    r is ok or err(would-block)
//	unlock FD
//
// Streams and futures:
//
//	[c =] write W "data"         write all of it (loops over partial copies)
//	start-write W "data"         [c =] finish-write W     [c =] cancel-write W
//	[c =] read R [N]             one read of up to N bytes (default 4096)
//	[c =] read-all R [N]         read until the writer drops its end
//	start-read R N               [c =] finish-read R      [c =] cancel-read R
//	[c =] read-entries R         read a read-directory stream to its end
//	[r =] await F                read a future / wait for a subtask
//	drop H...                    drop handles, stream ends, futures
//	drop-all                     drop every live handle of the instance
//
// Sockets and stdio:
//
//	s = tcp-socket [ipv4|ipv6]   bind S ADDR     connect S ADDR
//	l = listen S                 c = accept L    (l is a stream<tcp-socket>)
//	f = send S R                 r, f = receive S
//	a = local-address S          a = remote-address S
//	[a =] resolve "name"         f = write-stdout R     f = write-stderr R
//
// Scheduling:
//
//	yield                        let the strategy run something else
//	sleep 10ms                   virtual time
//	join TASK                    wait until another task has ended
//	wait VAR                     wait until a task of the instance sets VAR
//
// # Errors and traps
//
// A statement whose call fails with a WASI error code, or traps, ends its
// task with a *StepError (file:line, the statement, the error), unless the
// next line of the task says what to expect:
//
//	expect error CODE            the statement failed with this error code
//	                             (no-entry, address-in-use, would-block, …)
//	expect trap [KIND]           the statement trapped (forged-handle,
//	                             dead-handle, wrong-type, lent-handle,
//	                             busy-end, after-dropped,
//	                             unresolved-subtask, instance-trapped,
//	                             bad-argument)
//
// "r = await f" and "r = trylock …" put an error code in r instead of
// failing; traps always fail.
//
// # Assertions
//
//	expect r ok | err CODE                 a result (await, trylock)
//	expect c == "text"                     bytes read (read, read-all,
//	                                       read-entries: names joined by \n);
//	                                       an address or address list as text
//	expect c completed|dropped|cancelled [N]   a copy's status and progress
//	expect file "path" == "content" | missing | exists
//	expect lock "path" free | shared | exclusive
//	expect port tcp|udp ADDR bound | free
//	expect stdout == "text"                expect stderr == "text"
//
// File, lock, port and stdio assertions observe the world at that moment
// (they are scheduling points). A broken assertion is a *StepError of
// kind "expect".
//
// # Running
//
// Parse returns a *Script or an *Error ("file:line:col: expected X, found
// Y"). Script.Scenario builds a sim.Scenario; run it with sim.RunOnce,
// sim.Explore or sim.Replay. At the end of a run the host's leak check
// reports every stream, future, descriptor or socket still referenced, so
// a script must drop what it creates. Script.Format prints the canonical
// form (comments are not kept).
package scenario
