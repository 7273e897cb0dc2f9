;; Nested components instantiated with resource arguments, outer aliases,
;; a bundle exported with an instance type ascription, a resource the
;; component defines (with a destructor), and an imported component type
;; instantiated twice.
(component $root
  (import "test:host/files" (instance $host
    (export "file" (type (sub resource)))
    (export "[method]file.read" (func (param "self" (borrow 0)) (param "n" u32) (result (list u8))))
    (export "[method]file.close" (func (param "self" (borrow 0))))
    (export "open" (func (param "path" string) (result (own 0))))
  ))
  (alias export $host "file" (type $file))
  (alias export $host "open" (func $open))
  (alias export $host "[method]file.close" (func $close))

  (core module $impl
    (memory (export "mem") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) unreachable)
    (func (export "counter-dtor") (param i32))
    (func (export "make") (param i32) (result i32) unreachable)
    (func (export "touch") (param i32))
    (func (export "log") (param i32 i32))
  )
  (core instance $impl-i (instantiate $impl))
  (alias core export $impl-i "mem" (core memory $mem))
  (alias core export $impl-i "realloc" (core func $realloc))
  (alias core export $impl-i "counter-dtor" (core func $dtor))
  (alias core export $impl-i "make" (core func $make))
  (alias core export $impl-i "touch" (core func $touch))
  (alias core export $impl-i "log" (core func $log))

  (type $counter (resource (rep i32) (dtor (core func $dtor))))
  (core func $counter-new (canon resource.new $counter))
  (core func $counter-rep (canon resource.rep $counter))
  (core func $counter-drop (canon resource.drop $counter))
  (core func $file-drop (canon resource.drop $file))
  (core func $open-lowered (canon lower (func $open) (memory $mem) (realloc $realloc)))

  (type $own-counter (own $counter))
  (type $make-t (func (param "n" u32) (result $own-counter)))
  (func $make-counter (type $make-t) (canon lift (core func $make)))
  (type $touch-t (func (param "self" (borrow $counter))))
  (func $touch-counter (type $touch-t) (canon lift (core func $touch)))
  (type $strings (list string))
  (type $log-t (func (param "lines" $strings)))
  (func $log-f (type $log-t) (canon lift (core func $log) (memory $mem) (realloc $realloc)))

  (component $wrap
    (import "r" (type $r (sub resource)))
    (import "use" (func $use (param "x" (borrow $r))))
    (alias outer $root $strings (type $s))
    (import "log" (func (param "lines" $s)))
    (alias outer $root $impl (core module $m))
    (core instance (instantiate $m))
    (export "r-again" (type $r))
    (export "use-it" (func $use))
  )
  (instance $w1 (instantiate $wrap
    (with "r" (type $file))
    (with "use" (func $close))
    (with "log" (func $log-f))
  ))
  (instance $w2 (instantiate $wrap
    (with "r" (type $counter))
    (with "use" (func $touch-counter))
    (with "log" (func $log-f))
  ))
  (alias export $w1 "r-again" (type $file-again))
  (alias export $w2 "r-again" (type $counter-again))
  (alias export $w2 "use-it" (func $touch-again))
  (core func $touch-lowered (canon lower (func $touch-again)))

  (component $outer-user
    (alias outer $root $wrap (component $w))
    (import "r" (type $r (sub resource)))
    (import "use" (func $use (param "x" (borrow $r))))
    (import "log" (func $log (param "lines" (list string))))
    (instance $inner (instantiate $w
      (with "r" (type $r))
      (with "use" (func $use))
      (with "log" (func $log))
    ))
    (export "inner" (instance $inner))
  )
  (instance $u (instantiate $outer-user
    (with "r" (type $counter))
    (with "use" (func $touch-counter))
    (with "log" (func $log-f))
  ))

  (instance $api
    (export "file" (type $file))
    (export "open" (func $open))
    (export "counter" (type $counter))
  )
  (type $api-t (instance
    (export "file" (type (sub resource)))
    (export "open" (func (param "path" string) (result (own 0))))
  ))
  (export "test:api/files" (instance $api) (instance (type $api-t)))
  (export $counter-e "counter" (type $counter))
  (type $make-t2 (func (param "n" u32) (result (own $counter-e))))
  (export "make" (func $make-counter) (func (type $make-t2)))

  (import "plugin" (component $plugin
    (import "r" (type $r (sub resource)))
    (export "made" (type $made (sub resource)))
    (export "convert" (func (param "x" (borrow $r)) (result (own $made))))
  ))
  (instance $p1 (instantiate $plugin (with "r" (type $file))))
  (instance $p2 (instantiate $plugin (with "r" (type $file))))
)
