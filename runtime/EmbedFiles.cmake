# Writes OUT as a C++ initializer list of {"path", R"(contents)"} pairs.
string(REPLACE "|" ";" FILES "${FILES}")
set(content "")
foreach(f ${FILES})
  file(READ ${SRC}/${f} text)
  string(APPEND content "{\"${f}\", R\"CANAO_RT(${text})CANAO_RT\"},\n")
endforeach()
file(WRITE ${OUT}.tmp "${content}")
file(RENAME ${OUT}.tmp ${OUT})
