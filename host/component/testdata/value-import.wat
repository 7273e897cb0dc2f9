;; A value import (🪙), which wasisim does not support.
(component
  (import "v" (value u32))
)
