# Writes OUT as one C++ raw string literal holding the contents of SRC.
file(READ ${SRC} text)
file(WRITE ${OUT}.tmp "R\"CANAO_SRC(${text})CANAO_SRC\"\n")
file(RENAME ${OUT}.tmp ${OUT})
