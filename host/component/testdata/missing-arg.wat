;; An instantiation that does not supply every import of the component.
(component
  (component $c
    (import "a" (func))
    (import "b" (func))
  )
  (import "f" (func $f))
  (instance (instantiate $c (with "a" (func $f))))
)
