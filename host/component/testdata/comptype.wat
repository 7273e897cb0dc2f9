;; An imported instance that exports a component type using the instance's
;; resource: the import copies that component type with its own fresh
;; resource, and instantiating the component passes it through.
(component
  (import "test:host/maker" (instance $host
    (export "r" (type (sub resource)))
    (export "use" (func (param "x" (borrow 0))))
    (export "maker" (component
      (alias outer 1 0 (type))
      (import "in" (func (param "x" (borrow 0))))
      (export "out" (func (result (own 0))))
    ))
  ))
  (alias export $host "r" (type $r))
  (alias export $host "use" (func $use))
  (alias export $host "maker" (component $maker))
  (instance $m (instantiate $maker (with "in" (func $use))))
  (alias export $m "out" (func $out))
  (core func (canon lower (func $out)))
)
