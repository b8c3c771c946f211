
xx/longhua/evilГ╚≥station" ║©Сн╬pщГKю≥gДж0⌡╔_э├dU1╦* ZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZZ