# kumasim_warnings(target): the warning set every project target builds with.
function(kumasim_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow)
endfunction()
