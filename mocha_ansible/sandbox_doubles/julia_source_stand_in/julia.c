/* TEST DOUBLE: a stand-in `julia` (see README.md). Not Julia. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef JULIA_VERSION
#define JULIA_VERSION "0.0.0"
#endif

/* A tree built with a delegate (make_repo.sh DEST DELEGATE) hands every call this
   binary does not understand to <prefix>/libexec/julia-stand-in/delegate, so the
   julia that julia_build really compiled is the one mocha_cifar's calls go through. */
static void delegate(char **argv) {
  char exe[PATH_MAX], target[PATH_MAX + 64];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return;
  exe[n] = '\0';
  char *slash = strrchr(exe, '/');
  if (slash == NULL) return;
  *slash = '\0';
  snprintf(target, sizeof target, "%s/../libexec/julia-stand-in/delegate", exe);
  if (access(target, X_OK) != 0) return;
  setenv("JULIA_STAND_IN_VERSION", JULIA_VERSION, 1);
  argv[0] = target;
  execv(target, argv);
  perror("julia stand-in: exec of the delegate failed");
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "--version") == 0) {
    printf("julia version %s\n", JULIA_VERSION);
    return 0;
  }
  if (argc > 2 && strcmp(argv[1], "-e") == 0 && strcmp(argv[2], "println(1+1)") == 0) {
    printf("2\n");
    return 0;
  }
  delegate(argv);
  fprintf(stderr, "julia stand-in: only --version and -e 'println(1+1)' are understood\n");
  return 1;
}
