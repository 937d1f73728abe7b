/* TEST DOUBLE: a stand-in `julia` (see README.md). Not Julia. */
#include <stdio.h>
#include <string.h>

#ifndef JULIA_VERSION
#define JULIA_VERSION "0.0.0"
#endif

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("julia version %s\n", JULIA_VERSION);
    return 0;
  }
  if (argc > 2 && strcmp(argv[1], "-e") == 0 && strcmp(argv[2], "println(1+1)") == 0) {
    printf("2\n");
    return 0;
  }
  fprintf(stderr, "julia stand-in: only --version and -e 'println(1+1)' are understood\n");
  return 1;
}
