# kumasim_warnings(target): the warning set every project target builds with.
function(kumasim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow
    # GCC 12 reports a false -Wrestrict inside libstdc++ for `"literal" + std::string`
    # at -O2 (GCC bug 105329, fixed in GCC 13).
    $<$<AND:$<CXX_COMPILER_ID:GNU>,$<VERSION_LESS:$<CXX_COMPILER_VERSION>,13>>:-Wno-restrict>)
endfunction()
