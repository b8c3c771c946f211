
;xx/longhua/evil& %ֿֱ|}אר÷%•J¬˜ûחֲ}<ֱIOמK½kG׀h